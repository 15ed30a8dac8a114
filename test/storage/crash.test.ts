/**
 * SIGKILL in the middle of storing: every instance whose store had resolved is present and
 * intact after a restart, nothing half-written is visible as an instance, counts match rows,
 * and the sweep removes only leftovers. Once one store at a time, once with several at once
 * sharing group commits (WAL and directory flushes) and each writing its audit event in its
 * own transaction.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BLOB_DIR } from '../../storage/index.js';
import { describeEachDatabase, type Harness } from './harness.js';
import { uid } from './fixtures.js';
import { bytesFor } from './store-worker.js';

const WORKER = fileURLToPath(new URL('./store-worker.ts', import.meta.url));

/** Runs the worker until `killAfter` stores were acknowledged, kills it at an arbitrary point after that, and returns the acknowledged UIDs. */
async function storeThenKill(h: Harness, study: string, series: string, killAfter: number, extra: string[] = []): Promise<string[]> {
  const acked: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, h.dataDir, h.databaseUrl ?? '-', Buffer.from(h.masterKey).toString('hex'), study, series, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      acked.push(...lines);
      // Kill at an arbitrary point once it is in full flow.
      if (!killed && acked.length >= killAfter) {
        killed = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
      }
    });
    child.on('close', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`worker exited ${code}: ${stderr}`))));
  });
  return acked;
}

describeEachDatabase('storage: crash safety', (h) => {
  it('after SIGKILL mid-store, every acknowledged instance is there and intact', async function () {
    this.timeout(60_000);
    const setup = await h.open();
    await setup.close();
    const study = uid();
    const series = uid();
    const acked = await storeThenKill(h, study, series, 25);
    expect(acked.length).to.be.greaterThanOrEqual(25);

    const s = await h.open();
    const stored = await s.listInstances(study);
    const study_ = await s.getStudy(study);
    expect(study_!.instanceCount).to.equal(stored.length);
    expect(study_!.series[0].instanceCount).to.equal(stored.length);
    const storedSet = new Set(stored.map((i) => i.sopInstanceUID));
    for (const sop of acked) expect(storedSet.has(sop), sop).to.equal(true);
    // At most the one in flight was committed without being acknowledged.
    expect(stored.length - acked.length).to.be.within(0, 1);
    for (const i of stored) expect((await s.getInstanceBlob(i.sopInstanceUID))!.bytes.equals(bytesFor(i.sopInstanceUID))).to.equal(true);

    const report = await s.sweepOrphanBlobs({ olderThanSeconds: 0 });
    const files = readdirSync(join(h.dataDir, BLOB_DIR, study));
    expect(files.filter((f) => f.endsWith('.blob'))).to.have.length(stored.length);
    expect(files.filter((f) => !f.endsWith('.blob'))).to.deep.equal([]);
    // The write in flight, and the spare temporary file opened ahead of the next one.
    expect(report.orphanBlobs + report.tempFiles).to.be.at.most(2);
    for (const i of stored) expect((await s.getInstanceBlob(i.sopInstanceUID))!.bytes.equals(bytesFor(i.sopInstanceUID))).to.equal(true);
  });

  it('after SIGKILL with 4 stores at once (group commit, audit event in the instance transaction), every acknowledged instance and its event are there', async function () {
    this.timeout(60_000);
    const concurrency = 4;
    const setup = await h.open();
    await setup.close();
    const study = uid();
    const series = uid();
    const acked = await storeThenKill(h, study, series, 40, [String(concurrency), 'audit']);
    expect(acked.length).to.be.greaterThanOrEqual(40);

    const s = await h.open();
    const stored = await s.listInstances(study);
    const detail = await s.getStudy(study);
    expect(detail!.instanceCount).to.equal(stored.length);
    expect(detail!.series[0].instanceCount).to.equal(stored.length);
    const storedSet = new Set(stored.map((i) => i.sopInstanceUID));
    expect(acked.filter((sop) => !storedSet.has(sop)), 'acknowledged but missing').to.deep.equal([]);
    // Only the stores in flight may have committed without being acknowledged.
    expect(stored.length - acked.length).to.be.within(0, concurrency);
    for (const i of stored) expect((await s.getInstanceBlob(i.sopInstanceUID))!.bytes.equals(bytesFor(i.sopInstanceUID))).to.equal(true);

    // The event commits with the rows: exactly one per stored instance, none for anything else, chain intact.
    expect(await s.audit.verify()).to.include({ ok: true });
    const events = await s.audit.list({ type: 'instance.stored', limit: 10_000 });
    expect(events.map((e) => e.detail.sopInstanceUID).sort()).to.deep.equal([...storedSet].sort());

    const report = await s.sweepOrphanBlobs({ olderThanSeconds: 0 });
    const files = readdirSync(join(h.dataDir, BLOB_DIR, study));
    expect(files.filter((f) => f.endsWith('.blob'))).to.have.length(stored.length);
    expect(files.filter((f) => !f.endsWith('.blob'))).to.deep.equal([]);
    expect(report.orphanBlobs + report.tempFiles).to.be.at.most(concurrency + 1);
  });
});
