/**
 * Crash safety of the edge: `limen start` as its own process is killed with SIGKILL in the
 * middle of a storescu association, then restarted on the same data dir. Every instance
 * storescu saw answered with Success must be there and readable; nothing half-written may be
 * visible; the interrupted study completes after the restart and a resend stores the rest.
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { dicom, type IdentifierGenerator } from '../../../anonymizer/index.js';
import { decodeMasterKey } from '../../../config/index.js';
import { gatewayIdentifiers } from '../../../gateway/process/identifiers.js';
import { openStorage } from '../../../storage/index.js';
import { dcmtk, spawnDcmtk, storescuSuccesses, type RunningTool } from '../../support/dcmtk.js';
import { CT_FAKEPHI_FILES, CT_FAKEPHI_UIDS, phiAtRest } from '../../support/fakephi.js';
import { listTree, readTree } from '../../support/files.js';
import { LimenProcess, runLimen } from '../../support/limen-cli.js';
import { requirePeers } from '../../support/peers.js';
import { freePort } from '../../support/ports.js';
import { openSqlite } from '../../support/sqlite.js';
import { until } from '../../support/wait.js';

/** storescu responses to see before the kill: well inside the 112-instance association. */
const KILL_AFTER = 40;
/** How the blob store names a write in progress (storage/fs-durable.ts). */
const TEMP_PREFIX = '.tmp-';

/** The original SOP Instance UID of a file. */
function originalSOPInstanceUID(file: string): string {
  const { dataset } = dicom.readPart10(readFileSync(file));
  return dicom.stringOf(dicom.find(dataset, dicom.T.SOPInstanceUID))!;
}

describe('edge: crash safety (SIGKILL during a storescu send, then restart)', function () {
  this.timeout(90_000);
  let work: string;
  let dataDir: string;
  let configFile: string;
  let env: Record<string, string>;
  let dimsePort: number;
  let httpPort: number;
  const gateways: LimenProcess[] = [];
  let scu: RunningTool | undefined;
  let acknowledged: string[] = [];
  /** Temporary files the killed write left behind. */
  let tempAfterKill: string[] = [];
  let ids: IdentifierGenerator;
  let masterKey: Uint8Array;
  let studyUID: string;
  let adminToken: string;

  const start = async (): Promise<LimenProcess> => {
    const gw = LimenProcess.spawn(['start', '--config', configFile], { cwd: work, env });
    gateways.push(gw);
    await gw.started();
    return gw;
  };
  const api = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };

  before(async function () {
    requirePeers(this, 'dcmtk');
    work = mkdtempSync(join(tmpdir(), 'limen-crash-'));
    dataDir = join(work, 'var');
    configFile = join(work, 'limen.yaml');
    // The edge alone: processing is another suite's business.
    writeFileSync(configFile, 'routes:\n  default:\n    stableSeconds: 1\nworker:\n  enabled: false\n');
    [httpPort, dimsePort] = [await freePort(), await freePort()];
    env = { LIMEN_DATA_DIR: dataDir, LIMEN_HTTP_PORT: String(httpPort), LIMEN_DIMSE_PORT: String(dimsePort), LIMEN_LOG_LEVEL: 'debug' };
  });

  after(async () => {
    if (scu && scu.child.exitCode === null && scu.child.signalCode === null) {
      process.kill(scu.child.pid!, 'SIGKILL');
      await scu.done;
    }
    for (const gw of gateways) await gw.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(`SIGKILL inside a blob write after ${KILL_AFTER} Store Responses: storescu saw some instances acknowledged, not all`, async () => {
    const gw = await start();
    const send = spawnDcmtk('storescu', ['-v', '-nh', '-aet', 'STORESCU', '-aec', 'LIMEN', '127.0.0.1', String(dimsePort), ...CT_FAKEPHI_FILES]);
    scu = send;
    await until(() => ((send.output().match(/Received Store Response/g) ?? []).length >= KILL_AFTER ? true : undefined), 30_000, `${KILL_AFTER} store responses`, 5);
    // Kill the moment the next instance's temporary file appears: the write (and its fsync) is
    // then in progress, the hardest place to die. If it never shows, kill anyway.
    const blobs = join(dataDir, 'blobs');
    const studyDirs = readdirSync(blobs);
    expect(studyDirs).to.have.length(1);
    await new Promise<void>((resolve) => {
      let killed = false;
      const kill = () => {
        if (killed) return;
        killed = true;
        clearTimeout(timer);
        watcher.close();
        if (gw.running) process.kill(gw.pid, 'SIGKILL');
        resolve();
      };
      const watcher = watch(join(blobs, studyDirs[0]), (_event, name) => {
        if (name?.startsWith(TEMP_PREFIX)) kill();
      });
      const timer = setTimeout(kill, 10_000);
    });
    expect((await gw.exited).signal).to.equal('SIGKILL');
    tempAfterKill = listTree(blobs).filter((p) => basename(p).startsWith(TEMP_PREFIX));

    const sent = await send.done;
    expect(sent.code, 'storescu lost its peer').to.not.equal(0);
    acknowledged = storescuSuccesses(sent.out);
    expect(acknowledged.length).to.be.at.least(KILL_AFTER).and.below(CT_FAKEPHI_FILES.length);
    expect(acknowledged.every((f) => CT_FAKEPHI_FILES.includes(f))).to.equal(true);
  });

  it('restarts on the same data dir; the API counts every acknowledged instance, and the interrupted study completes', async function () {
    if (acknowledged.length === 0) this.skip();
    const key = decodeMasterKey(readFileSync(join(dataDir, 'master.key'), 'utf8'));
    expect(key, 'master.key decodes').to.not.equal(undefined);
    masterKey = key!;
    ids = gatewayIdentifiers(masterKey);
    studyUID = ids.uid(CT_FAKEPHI_UIDS.studyInstanceUID);

    // The gateway is down: the CLI may open the database alone.
    const token = await runLimen(['token', 'create', '--role', 'admin', '--ttl', '1h', '--config', configFile], { cwd: work, env });
    expect(token.code, token.stderr).to.equal(0);
    adminToken = token.stdout.trim();

    const gw = await start();
    const { status, body } = await api(`/api/v1/studies/${studyUID}`);
    expect(status, JSON.stringify(body)).to.equal(200);
    // One association sends one instance at a time: at most the one in flight was committed unanswered.
    expect(body.instanceCount).to.be.within(acknowledged.length, acknowledged.length + 1);
    expect(body.seriesCount).to.equal(1);
    const completed = await until(async () => {
      const s = (await api(`/api/v1/studies/${studyUID}`)).body.status as string;
      return s !== 'receiving' ? s : undefined;
    }, 15_000, 'the interrupted study to complete');
    expect(completed).to.equal('complete');
    const stopped = await gw.stop('SIGTERM');
    expect(stopped.code).to.equal(0);
  });

  it('after the restart every acknowledged instance opens, authenticated, with its de-identified SOP Instance UID', async function () {
    if (!masterKey) this.skip();
    const storage = await openStorage({ dataDir, masterKey });
    try {
      const missing: string[] = [];
      for (const file of acknowledged) {
        const sop = ids.uid(originalSOPInstanceUID(file));
        const blob = await storage.getInstanceBlob(sop);
        if (!blob) {
          missing.push(basename(file));
          continue;
        }
        const stored = dicom.readPart10(blob.bytes);
        expect(dicom.stringOf(dicom.find(stored.dataset, dicom.T.SOPInstanceUID))).to.equal(sop);
        expect(blob.studyInstanceUID).to.equal(studyUID);
      }
      expect(missing, 'acknowledged but not stored').to.deep.equal([]);
      // Nothing partial is visible: every instance the database lists opens and authenticates.
      const listed = await storage.listInstances(studyUID);
      expect(listed.length).to.be.within(acknowledged.length, acknowledged.length + 1);
      for (const i of listed) expect((await storage.getInstanceBlob(i.sopInstanceUID))!.bytes.length).to.be.greaterThan(1000);
    } finally {
      await storage.close();
    }
  });

  it('no partial file is visible: final blob names hold whole blobs, and no row points to a temporary file', async function () {
    if (!masterKey) this.skip();
    const blobs = listTree(join(dataDir, 'blobs'));
    const temp = blobs.filter((p) => basename(p).startsWith(TEMP_PREFIX));
    const final = blobs.filter((p) => /^[0-9a-f]{32}\.blob$/.test(basename(p)));
    expect(final.length + temp.length, 'nothing but blobs and temporary files').to.equal(blobs.length);
    // A final name is given only by rename after fsync: each such file is a whole blob.
    for (const p of final) expect(readFileSync(p).subarray(0, 4).toString('latin1')).to.equal('LMNB');
    // Read the rows directly (the gateway is stopped): each points to a final file that exists.
    const db = openSqlite(join(dataDir, 'limen.sqlite'), { readonly: true });
    try {
      const paths = (db.prepare('SELECT blob_path FROM instances').all() as Array<{ blob_path: string }>).map((r) => join(dataDir, 'blobs', r.blob_path));
      expect(paths.length).to.be.within(acknowledged.length, acknowledged.length + 1);
      expect(paths.filter((p) => !final.includes(p)), 'rows pointing elsewhere than a final blob').to.deep.equal([]);
    } finally {
      db.close();
    }
  });

  // On embedded SQLite the gateway owns the data dir, so its startup sweep takes every leftover.
  it('temporary files of the interrupted write are swept at restart', function () {
    if (tempAfterKill.length === 0) this.skip(); // the kill did not land inside a write
    const left = listTree(join(dataDir, 'blobs')).filter((p) => basename(p).startsWith(TEMP_PREFIX));
    expect(left).to.deep.equal([]);
  });

  it('a resend of the whole series after the restart stores the rest: 112 instances in one series, one study', async function () {
    if (!masterKey) this.skip();
    await start();
    const r = await dcmtk('storescu', ['-aet', 'STORESCU', '-aec', 'LIMEN', '127.0.0.1', String(dimsePort), ...CT_FAKEPHI_FILES]);
    expect(r.code, r.out).to.equal(0);
    const { body } = await api(`/api/v1/studies/${studyUID}`);
    expect(body.instanceCount).to.equal(CT_FAKEPHI_FILES.length);
    expect(body.seriesCount).to.equal(1);
    expect((await api('/api/v1/studies')).body.studies).to.have.length(1);
  });

  // With no worker (worker.enabled: false) the interrupted study's job is still queued, so the
  // resend's late instances reopen the study; it completes again once they stop.
  it('the resent study reopens and completes again with all 112 instances', async function () {
    if (!masterKey) this.skip();
    const study = await until(async () => {
      const { body } = await api(`/api/v1/studies/${studyUID}`);
      return body.status === 'complete' ? body : undefined;
    }, 20_000, 'the study to complete');
    expect(study.instanceCount).to.equal(CT_FAKEPHI_FILES.length);
  });

  it('stops gracefully after all this (SIGTERM, exit 0)', async function () {
    const gw = gateways.at(-1);
    if (!gw?.running) this.skip();
    expect((await gw!.stop('SIGTERM')).code).to.equal(0);
  });

  it('keeps no PHI at rest after the crash: data dir (leftovers included) and every log', function () {
    if (!masterKey) this.skip();
    const files = readTree(dataDir);
    gateways.forEach((gw, i) => files.push({ name: `log of start ${i + 1}`, bytes: Buffer.from(gw.stderr + gw.stdout) }));
    expect(phiAtRest(files)).to.deep.equal([]);
  });
});
