/**
 * An instance's rows commit while its blob is flushed; an `unconfirmed_instances` row names it
 * until its blob is known to be on disk. These tests play what a power loss can leave (committed
 * rows, a blob that never reached the disk) and a flush that fails, and check that the instance
 * is taken back whole: rows, counts, vault record and blob, with the reason in the audit trail.
 */
import { expect } from 'chai';
import { rmSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { BLOB_DIR } from '../../storage/index.js';
import { BlobStore } from '../../storage/blobs.js';
import { StorageError } from '../../storage/errors.js';
import { UNCONFIRMED_GRACE_MS } from '../../storage/instances.js';
import { spyOnFlushes } from '../support/fs-flushes.js';
import { describeEachDatabase } from './harness.js';
import { instanceInput, rejection, uid } from './fixtures.js';

/** Makes every blob flush of this process fail with EIO after `delayMs`, until restored. */
function failBlobFlushes(delayMs: number): () => void {
  const original = BlobStore.prototype.writeUnflushed;
  BlobStore.prototype.writeUnflushed = async function (this: BlobStore, ...args: Parameters<BlobStore['writeUnflushed']>) {
    const written = await original.apply(this, args);
    const flushed = written.flushed
      .then(() => new Promise((r) => setTimeout(r, delayMs)))
      .then(() => {
        throw new StorageError('blob-write-failed', 'writing a blob failed: EIO', { path: written.relPath });
      });
    flushed.catch(() => undefined);
    return { relPath: written.relPath, flushed };
  };
  return () => {
    BlobStore.prototype.writeUnflushed = original;
  };
}

describeEachDatabase('storage: instances committed before their blob was on disk', (h) => {
  const unconfirmed = async (): Promise<string[]> => (await h.sql('SELECT sop_instance_uid FROM unconfirmed_instances ORDER BY sop_instance_uid')).map((r) => String(r.sop_instance_uid));
  const blobPathOf = async (sop: string): Promise<string> => String((await h.sql('SELECT blob_path FROM instances WHERE sop_instance_uid = ?', [sop]))[0].blob_path);

  it('leaves at most the newest store unconfirmed while running, and none after a clean close', async () => {
    const s = await h.open();
    const study = uid();
    const series = uid();
    for (let i = 0; i < 5; i++) await s.storeInstance(instanceInput({ studyInstanceUID: study, seriesInstanceUID: series }));
    expect((await unconfirmed()).length).to.be.at.most(1);
    await s.close();
    expect(await unconfirmed()).to.deep.equal([]);
    const again = await h.open();
    expect(await again.repairUnconfirmedInstances()).to.deep.equal({ kept: 0, discarded: 0, deferred: 0 });
  });

  it('after a power loss, takes back the instances whose blob is missing or incomplete, and keeps the whole one', async () => {
    const s = await h.open();
    const study = uid();
    const [seriesA, seriesB] = [uid(), uid()];
    const a = [0, 1, 2].map(() => instanceInput({ studyInstanceUID: study, seriesInstanceUID: seriesA }));
    const b = instanceInput({ studyInstanceUID: study, seriesInstanceUID: seriesB });
    for (const input of [...a, b]) await s.storeInstance(input);
    await s.close();

    // What a power loss can leave: rows committed, unconfirmed, blobs not (or only partly) on disk.
    const blobs = join(h.dataDir, BLOB_DIR);
    truncateSync(join(blobs, await blobPathOf(a[1].sopInstanceUID)), 100);
    rmSync(join(blobs, await blobPathOf(b.sopInstanceUID)));
    const lost = Date.now() - UNCONFIRMED_GRACE_MS - 1000;
    for (const sop of [a[0].sopInstanceUID, a[1].sopInstanceUID, b.sopInstanceUID]) await h.sql('INSERT INTO unconfirmed_instances (sop_instance_uid, created_at) VALUES (?, ?)', [sop, lost]);

    const r = await h.open();
    expect(await r.repairUnconfirmedInstances()).to.deep.equal({ kept: 1, discarded: 2, deferred: 0 });
    expect(await unconfirmed()).to.deep.equal([]);
    expect((await r.listInstances(study)).map((i) => i.sopInstanceUID).sort()).to.deep.equal([a[0].sopInstanceUID, a[2].sopInstanceUID].sort());
    const detail = await r.getStudy(study);
    expect(detail).to.include({ instanceCount: 2, seriesCount: 1 });
    expect(detail!.series.map((x) => [x.seriesInstanceUID, x.instanceCount])).to.deep.equal([[seriesA, 2]]);
    expect(await r.getInstanceBlob(a[1].sopInstanceUID)).to.equal(null);
    expect((await r.getInstanceBlob(a[0].sopInstanceUID))!.bytes.equals(Buffer.from(a[0].bytes))).to.equal(true);
    expect(await h.sql('SELECT sop_instance_uid FROM vault_records WHERE sop_instance_uid = ?', [a[1].sopInstanceUID])).to.deep.equal([]);

    const events = await r.audit.list({ type: 'instance.discarded', limit: 10 });
    expect(events.map((e) => e.detail.sopInstanceUID).sort()).to.deep.equal([a[1].sopInstanceUID, b.sopInstanceUID].sort());
    expect(events.every((e) => e.detail.reason === 'blob-not-on-disk' && e.studyInstanceUID === study)).to.equal(true);
    expect(await r.audit.verify()).to.include({ ok: true });
    expect(await r.repairUnconfirmedInstances()).to.deep.equal({ kept: 0, discarded: 0, deferred: 0 });

    // The sender resends what was never acknowledged: it is stored again, as new.
    expect((await r.storeInstance(instanceInput({ ...a[1] }))).duplicate).to.equal(false);
  });

  it('when the blob flush fails, the store fails and takes its committed instance back', async () => {
    const s = await h.open();
    const restore = failBlobFlushes(0);
    const input = instanceInput();
    let err: Awaited<ReturnType<typeof rejection>>;
    try {
      err = await rejection(s.storeInstance(input));
    } finally {
      restore();
    }
    expect(err.code).to.equal('blob-write-failed');
    expect(await s.getInstance(input.sopInstanceUID)).to.equal(null);
    const [study] = await h.sql('SELECT instance_count, series_count FROM studies WHERE study_instance_uid = ?', [input.studyInstanceUID]);
    expect([Number(study.instance_count), Number(study.series_count)]).to.deep.equal([0, 0]);
    expect(await unconfirmed()).to.deep.equal([]);
    const events = await s.audit.list({ type: 'instance.discarded', limit: 10 });
    expect(events.map((e) => [e.detail.sopInstanceUID, e.detail.reason])).to.deep.equal([[input.sopInstanceUID, 'blob-flush-failed']]);
    // Nothing of it is left on disk either, and the resend is stored.
    expect((await s.sweepOrphanBlobs({ olderThanSeconds: 0 })).orphanBlobs).to.equal(0);
    expect((await s.storeInstance(input)).duplicate).to.equal(false);
  });

  it('a resend that arrives while the first copy is being flushed is answered by that copy\'s outcome, never before it', async () => {
    const s = await h.open();
    const input = instanceInput();
    // The first copy's rows commit at once; its blob's flush fails a moment later.
    const restore = failBlobFlushes(150);
    let first: ReturnType<typeof rejection>;
    try {
      first = rejection(s.storeInstance(input));
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      restore();
    }
    const resend = await s.storeInstance({ ...input });
    expect((await first).code).to.equal('blob-write-failed');
    // Had the resend been answered from the first copy's committed rows, it would be gone now.
    expect(resend.duplicate).to.equal(false);
    expect((await s.getInstanceBlob(input.sopInstanceUID))!.bytes.equals(Buffer.from(input.bytes))).to.equal(true);
  });

  it('at start, keeps a whole unconfirmed blob only once it is flushed to disk (a crash leaves it in the page cache)', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    await s.close();
    const blobPath = join(h.dataDir, BLOB_DIR, await blobPathOf(input.sopInstanceUID));
    await h.sql('INSERT INTO unconfirmed_instances (sop_instance_uid, created_at) VALUES (?, ?)', [input.sopInstanceUID, Date.now() - UNCONFIRMED_GRACE_MS - 1000]);
    const r = await h.open();
    const spy = spyOnFlushes();
    try {
      expect(await r.repairUnconfirmedInstances()).to.deep.equal({ kept: 1, discarded: 0, deferred: 0 });
    } finally {
      spy.restore();
    }
    expect(spy.flushes.filter((f) => f.path === blobPath && f.kind === 'fdatasync')).to.have.length(1);
    expect(spy.flushes.filter((f) => f.path === join(blobPath, '..') && f.kind === 'fsync')).to.have.length(1);
    expect(await unconfirmed()).to.deep.equal([]);
  });

  it('a resend of an instance a stopped process left unconfirmed, its blob lost, is stored anew', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    await s.close();
    rmSync(join(h.dataDir, BLOB_DIR, await blobPathOf(input.sopInstanceUID)));
    await h.sql('INSERT INTO unconfirmed_instances (sop_instance_uid, created_at) VALUES (?, ?)', [input.sopInstanceUID, Date.now() - UNCONFIRMED_GRACE_MS - 1000]);
    // (No repair at start here: on PostgreSQL another process may have been running all along.)
    const r = await h.open();
    expect((await r.storeInstance({ ...input })).duplicate).to.equal(false);
    expect((await r.getInstanceBlob(input.sopInstanceUID))!.bytes.equals(Buffer.from(input.bytes))).to.equal(true);
    expect((await r.audit.list({ type: 'instance.discarded', limit: 10 })).map((e) => e.detail.reason)).to.deep.equal(['blob-not-on-disk']);
  });

  it('a resend of a stored instance whose blob was deleted or truncated behind Limen\'s back is stored anew, and counted once', async () => {
    const s = await h.open();
    const [gone, cut] = [instanceInput(), instanceInput()];
    for (const i of [gone, cut]) await s.storeInstance(i);
    rmSync(join(h.dataDir, BLOB_DIR, await blobPathOf(gone.sopInstanceUID)));
    truncateSync(join(h.dataDir, BLOB_DIR, await blobPathOf(cut.sopInstanceUID)), 100);
    for (const i of [gone, cut]) {
      expect((await s.storeInstance({ ...i })).duplicate, 'stored anew').to.equal(false);
      expect((await s.getInstanceBlob(i.sopInstanceUID))!.bytes.equals(Buffer.from(i.bytes))).to.equal(true);
      expect((await s.storeInstance({ ...i })).duplicate, 'a resend now').to.equal(true);
    }
    expect((await s.getStudy(gone.studyInstanceUID))!.instanceCount).to.equal(gone.studyInstanceUID === cut.studyInstanceUID ? 2 : 1);
    expect((await s.audit.list({ type: 'instance.discarded', limit: 10 })).map((e) => e.detail.reason)).to.deep.equal(['blob-lost', 'blob-lost']);
  });

  it('a resend of an instance another process is still storing, its blob not yet whole, is asked to come back later', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    await s.close();
    const blob = join(h.dataDir, BLOB_DIR, await blobPathOf(input.sopInstanceUID));
    truncateSync(blob, 100);
    await h.sql('INSERT INTO unconfirmed_instances (sop_instance_uid, created_at) VALUES (?, ?)', [input.sopInstanceUID, Date.now()]);
    const r = await h.open();
    expect((await rejection(r.storeInstance({ ...input }))).code).to.equal('blob-missing');
    // Nothing was taken back: the row may still be another process's store in flight.
    expect(await r.getInstance(input.sopInstanceUID)).not.to.equal(null);
    expect(await unconfirmed()).to.deep.equal([input.sopInstanceUID]);
    // At start, PostgreSQL leaves it to its store (or to a later check); embedded SQLite has no other process.
    expect(await r.repairUnconfirmedInstances()).to.deep.equal(h.dialect === 'postgres' ? { kept: 0, discarded: 0, deferred: 1 } : { kept: 0, discarded: 1, deferred: 0 });
  });

  it('at start on SQLite, checks a row dated ahead of the clock too (a clock set back since the crash)', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    await s.close();
    await h.sql('INSERT INTO unconfirmed_instances (sop_instance_uid, created_at) VALUES (?, ?)', [input.sopInstanceUID, Date.now() + 3_600_000]);
    const r = await h.open();
    expect(await r.repairUnconfirmedInstances()).to.deep.equal(h.dialect === 'postgres' ? { kept: 0, discarded: 0, deferred: 1 } : { kept: 1, discarded: 0, deferred: 0 });
  });
});
