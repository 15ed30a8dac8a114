import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Storage, StoreInstanceInput } from '../../storage/index.js';
import { describeEachDatabase } from './harness.js';
import { instanceInput, manualClock, rejection, studyInputs, uid } from './fixtures.js';

const SEG = '1.2.840.10008.5.1.4.1.1.66.4';

/** One CT series stored; its instances and the study's UID. */
async function storeCT(s: Storage, perSeries: number): Promise<{ ct: StoreInstanceInput[]; study: string }> {
  const ct = studyInputs(1, perSeries);
  for (const i of ct) await s.storeInstance(i);
  return { ct, study: ct[0].studyInstanceUID };
}

/** A SEG of the study, as the pipeline stores it (no linkage: it links to nobody but through its source). */
const segInput = (study: string) => instanceInput({ studyInstanceUID: study, sopClassUID: SEG, modality: 'SEG', linkage: undefined });

describeEachDatabase('storage: processing a study again', (h) => {
  it('re-queues a study once, withdraws its undecided review, and refuses while a job is active or after approval', async () => {
    const s = await h.open();
    const [first, ...rest] = studyInputs(1, 2);
    for (const i of [first, ...rest]) await s.storeInstance(i);
    const study = first.studyInstanceUID;
    expect(await s.reprocessStudy(study, {}, ['awaiting_review'])).to.deep.equal({ ok: false, reason: 'conflict', status: 'receiving' });
    expect(await s.reprocessStudy(uid(), {}, ['awaiting_review'])).to.deep.equal({ ok: false, reason: 'not-found' });

    await s.setStudyStatus(study, 'awaiting_review');
    await s.reviews.create({ studyInstanceUID: study, summary: {}, segSOPInstanceUID: uid(), glbSha256: 'a'.repeat(64) });
    const r = await s.reprocessStudy(study, { model: 'other' }, ['awaiting_review', 'rejected']);
    expect(r.ok).to.equal(true);
    if (!r.ok) return;
    expect(r.previousStatus).to.equal('awaiting_review');
    expect((await s.getStudy(study))!.status).to.equal('complete');
    expect(await s.reviews.get(study)).to.equal(null);
    const job = (await s.jobs.get(r.jobId))!;
    expect(job).to.deep.include({ type: 'process', status: 'queued', studyInstanceUID: study });
    expect(job.payload).to.deep.equal({ studyInstanceUID: study, model: 'other' });
    // A second request while the first job waits: refused, no second job.
    expect(await s.reprocessStudy(study, {}, ['complete'])).to.deep.equal({ ok: false, reason: 'conflict', status: 'complete' });
    expect(await s.jobs.list({ studyInstanceUID: study, type: 'process' })).to.have.length(1);

    await s.setStudyStatus(study, 'approved');
    await s.jobs.claim('process', 'w', 60).then((j) => s.jobs.complete(j!.id, 'w'));
    expect(await s.reprocessStudy(study, {}, ['awaiting_review', 'rejected'])).to.deep.equal({ ok: false, reason: 'conflict', status: 'approved' });
  });

  it('a late instance before the requested run starts reopens the study, and the model it was asked for stays', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const { ct, study } = await storeCT(s, 2);
    clock.advance(60);
    expect(await s.completeStableStudies()).to.have.length(1);
    await s.jobs.claim('process', 'w', 60).then((j) => s.jobs.complete(j!.id, 'w'));
    await s.setStudyStatus(study, 'awaiting_review');
    const asked = await s.reprocessStudy(study, { model: 'other' }, ['awaiting_review']);
    if (!asked.ok) throw new Error('not queued');

    // The first run's finished job does not count as the new one started: the new one is withdrawn.
    await s.storeInstance(instanceInput({ studyInstanceUID: study, seriesInstanceUID: ct[0].seriesInstanceUID }));
    expect((await s.jobs.get(asked.jobId))!.status).to.equal('cancelled');
    expect((await s.getStudy(study))!.status).to.equal('receiving');
    clock.advance(60);
    const [again] = await s.completeStableStudies();
    expect((await s.jobs.get(again.jobId))!.payload).to.deep.equal({ studyInstanceUID: study, model: 'other' });
  });

  it('a model an admin asked for outlives the late instance that superseded its run: the study completes anew and is processed with it', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const { ct, study } = await storeCT(s, 2);
    clock.advance(60);
    expect(await s.completeStableStudies()).to.have.length(1);
    await s.jobs.claim('process', 'w', 60).then((j) => s.jobs.complete(j!.id, 'w'));
    await s.setStudyStatus(study, 'awaiting_review');
    const asked = await s.reprocessStudy(study, { model: 'other' }, ['awaiting_review']);
    if (!asked.ok) throw new Error('not queued');

    // The run with that model starts; a third instance arrives while it runs, so its result is stale.
    expect((await s.jobs.claim('process', 'w', 60))!.id).to.equal(asked.jobId);
    await s.setStudyStatus(study, 'processing');
    await s.storeInstance(instanceInput({ studyInstanceUID: study, seriesInstanceUID: ct[0].seriesInstanceUID }));
    const seg = segInput(study);
    await s.storeInstance(seg);
    const review = { studyInstanceUID: study, summary: {}, segSOPInstanceUID: seg.sopInstanceUID, glbSha256: 'b'.repeat(64) };
    const effects = { supersededSeries: [], audit: { type: 'processing.completed', studyInstanceUID: study }, sources: { instanceCount: ct.length, resultSeries: seg.seriesInstanceUID } };
    expect(await s.publishReview(review, effects)).to.equal('stale');
    await s.jobs.complete(asked.jobId, 'w', { superseded: true });

    clock.advance(60);
    const [again] = await s.completeStableStudies();
    expect(again.studyInstanceUID).to.equal(study);
    expect((await s.jobs.get(again.jobId))!.payload).to.deep.equal({ studyInstanceUID: study, model: 'other' });

    // A study nobody chose a model for completes with none: its route's.
    const plain = await storeCT(s, 1);
    clock.advance(60);
    const [first] = await s.completeStableStudies();
    expect((await s.jobs.get(first.jobId))!.payload).to.deep.equal({ studyInstanceUID: plain.study });
  });

  it("the request's audit event commits with the job it queued, or neither does", async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const study = input.studyInstanceUID;
    await s.setStudyStatus(study, 'awaiting_review');
    await s.reviews.create({ studyInstanceUID: study, summary: {}, segSOPInstanceUID: uid(), glbSha256: 'a'.repeat(64) });

    // An event that cannot be written takes the job, the status change and the withdrawal back with it.
    const broken = await s.reprocessStudy(study, {}, ['awaiting_review'], () => ({ type: '' })).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(broken?.code).to.equal('invalid-input');
    expect((await s.getStudy(study))!.status).to.equal('awaiting_review');
    expect(await s.reviews.get(study)).to.not.equal(null);
    expect(await s.jobs.list({ studyInstanceUID: study })).to.deep.equal([]);

    const r = await s.reprocessStudy(study, { model: 'other' }, ['awaiting_review'], (queued) => ({ type: 'processing.requested', actor: 'admin', studyInstanceUID: study, detail: { ...queued } }));
    if (!r.ok) throw new Error('not queued');
    const events = await s.audit.list({ type: 'processing.requested' });
    expect(events.map((e) => e.detail)).to.deep.equal([{ jobId: r.jobId, previousStatus: 'awaiting_review' }]);
    // Refused: nothing is recorded.
    await s.reprocessStudy(study, {}, ['awaiting_review'], () => ({ type: 'processing.requested' }));
    expect(await s.audit.list({ type: 'processing.requested' })).to.have.length(1);
    expect(await s.audit.verify()).to.include({ ok: true });
  });

  it('a rejected review stays until the new result replaces it', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const study = input.studyInstanceUID;
    await s.reviews.create({ studyInstanceUID: study, summary: {}, segSOPInstanceUID: uid(), glbSha256: 'a'.repeat(64) });
    await s.reviews.decide(study, 'reject', 'dr', 'leaks into the table');
    await s.setStudyStatus(study, 'rejected');
    expect((await s.reprocessStudy(study, {}, ['rejected'])).ok).to.equal(true);
    expect((await s.reviews.get(study))!.status).to.equal('rejected');
  });

  it('removes a superseded series: rows, counts and blobs', async () => {
    const s = await h.open();
    const { ct, study } = await storeCT(s, 3);
    const seg = segInput(study);
    await s.storeInstance(seg);
    expect((await s.getStudy(study))!).to.deep.include({ instanceCount: 4, seriesCount: 2 });
    const blobPath = String((await h.sql('SELECT blob_path FROM instances WHERE sop_instance_uid = ?', [seg.sopInstanceUID]))[0].blob_path);
    expect(existsSync(join(h.dataDir, 'blobs', blobPath))).to.equal(true);

    expect(await s.removeSeries(study, seg.seriesInstanceUID)).to.equal(1);
    expect((await s.getStudy(study))!).to.deep.include({ instanceCount: 3, seriesCount: 1 });
    expect(await s.getInstance(seg.sopInstanceUID)).to.equal(null);
    expect(existsSync(join(h.dataDir, 'blobs', blobPath))).to.equal(false);
    expect((await s.listInstances(study)).map((i) => i.sopInstanceUID).sort()).to.deep.equal(ct.map((i) => i.sopInstanceUID).sort());
    expect(await s.removeSeries(study, seg.seriesInstanceUID)).to.equal(0);
    // The CT is untouched and its vault records too.
    expect(await s.vault.open(study)).to.have.length(3);
  });

  it('publishes a new result in one transaction: review, superseded SEG and status together, or none of them', async () => {
    const s = await h.open();
    const { ct, study } = await storeCT(s, 2);
    const oldSeg = segInput(study);
    await s.storeInstance(oldSeg);
    await s.reviews.create({ studyInstanceUID: study, summary: { run: 1 }, segSOPInstanceUID: oldSeg.sopInstanceUID, glbSha256: 'a'.repeat(64) });
    await s.setStudyStatus(study, 'processing');
    const oldBlob = String((await h.sql('SELECT blob_path FROM instances WHERE sop_instance_uid = ?', [oldSeg.sopInstanceUID]))[0].blob_path);
    const newSeg = segInput(study);
    await s.storeInstance(newSeg);
    const review = { studyInstanceUID: study, summary: { run: 2 }, segSOPInstanceUID: newSeg.sopInstanceUID, glbSha256: 'b'.repeat(64) };
    const completed = { type: 'processing.completed', actor: 'process', studyInstanceUID: study, detail: { segSOPInstanceUID: newSeg.sopInstanceUID } };

    // An event that cannot be written takes the whole publication back: the old result stands.
    const broken = await s.publishReview(review, { supersededSeries: [oldSeg.seriesInstanceUID], audit: { ...completed, type: '' } }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(broken?.code).to.equal('invalid-input');
    expect((await s.reviews.get(study))!.summary).to.deep.equal({ run: 1 });
    expect((await s.getStudy(study))!).to.deep.include({ status: 'processing', instanceCount: 4, seriesCount: 3 });
    expect(await s.getInstance(oldSeg.sopInstanceUID)).to.not.equal(null);
    expect(existsSync(join(h.dataDir, 'blobs', oldBlob))).to.equal(true);

    await s.publishReview(review, { supersededSeries: [oldSeg.seriesInstanceUID], audit: completed });
    expect(await s.reviews.get(study)).to.deep.include({ status: 'pending', segSOPInstanceUID: newSeg.sopInstanceUID });
    expect((await s.getStudy(study))!).to.deep.include({ status: 'awaiting_review', instanceCount: 3, seriesCount: 2 });
    expect(await s.getInstance(oldSeg.sopInstanceUID)).to.equal(null);
    expect(existsSync(join(h.dataDir, 'blobs', oldBlob))).to.equal(false);
    expect((await s.audit.list({ type: 'processing.completed' })).map((e) => e.detail)).to.deep.equal([{ segSOPInstanceUID: newSeg.sopInstanceUID }]);
    expect(await s.audit.verify()).to.include({ ok: true });
  });

  it('does not put up a result made while more instances arrived: its SEG goes, the study completes again and is processed whole', async () => {
    const s = await h.open();
    const { ct, study } = await storeCT(s, 2);
    const oldSeg = segInput(study);
    await s.storeInstance(oldSeg);
    await s.setStudyStatus(study, 'processing');
    // The pipeline read the two CT instances; a third arrives while it runs.
    await s.storeInstance(instanceInput({ studyInstanceUID: study, seriesInstanceUID: ct[0].seriesInstanceUID }));
    const newSeg = segInput(study);
    await s.storeInstance(newSeg);
    const newBlob = String((await h.sql('SELECT blob_path FROM instances WHERE sop_instance_uid = ?', [newSeg.sopInstanceUID]))[0].blob_path);
    const review = { studyInstanceUID: study, summary: {}, segSOPInstanceUID: newSeg.sopInstanceUID, glbSha256: 'b'.repeat(64) };
    const completed = { type: 'processing.completed', actor: 'process', studyInstanceUID: study, detail: {} };
    const sources = { instanceCount: ct.length, resultSeries: newSeg.seriesInstanceUID };

    expect(await s.publishReview(review, { supersededSeries: [oldSeg.seriesInstanceUID], audit: completed, sources })).to.equal('stale');
    expect(await s.reviews.get(study)).to.equal(null);
    expect((await s.getStudy(study))!).to.deep.include({ status: 'receiving', instanceCount: 4, seriesCount: 2 });
    expect(await s.getInstance(newSeg.sopInstanceUID)).to.equal(null);
    expect(existsSync(join(h.dataDir, 'blobs', newBlob))).to.equal(false);
    expect(await s.getInstance(oldSeg.sopInstanceUID)).to.not.equal(null);
    expect(await s.audit.list({ type: 'processing.completed' })).to.deep.equal([]);
    expect((await s.audit.list({ type: 'processing.superseded' }))[0].detail).to.deep.include({ processedInstances: 2, instancesNow: 3 });
    // After its stable time it completes again, to be processed with all three.
    const later = new Date(Date.now() + 3_600_000);
    expect((await s.completeStableStudies({ now: later })).map((c) => c.studyInstanceUID)).to.deep.equal([study]);

    // The same result, had nothing arrived, is published.
    expect(await s.publishReview(review, { supersededSeries: [oldSeg.seriesInstanceUID], audit: completed, sources: { instanceCount: 3, resultSeries: uid() } })).to.equal('published');
  });

  it('counts an instance whose store commits during the publication (its lock on the study waited for), and finds the result stale', async function () {
    if (h.dialect !== 'postgres') this.skip(); // (SQLite's write transactions run one at a time.)
    const s = await h.open();
    const { ct, study } = await storeCT(s, 2);
    await s.setStudyStatus(study, 'processing');
    const seg = segInput(study);
    await s.storeInstance(seg);
    // What a store of a late instance does on another connection: the study's row locked, the instance inserted, then commit.
    const store = await h.connect();
    await store.query('BEGIN');
    await store.query('SELECT * FROM studies WHERE study_instance_uid = $1 FOR UPDATE', [study]);
    await store.query(
      'INSERT INTO instances SELECT $1, series_instance_uid, study_instance_uid, sop_class_uid, transfer_syntax_uid, instance_number, blob_path, size_bytes, attributes, received_at FROM instances WHERE sop_instance_uid = $2',
      [uid(), ct[0].sopInstanceUID],
    );
    const review = { studyInstanceUID: study, summary: {}, segSOPInstanceUID: seg.sopInstanceUID, glbSha256: 'b'.repeat(64) };
    const publishing = s.publishReview(review, { supersededSeries: [], audit: { type: 'processing.completed', actor: 'process', studyInstanceUID: study, detail: {} }, sources: { instanceCount: 2, resultSeries: seg.seriesInstanceUID } });
    await new Promise((r) => setTimeout(r, 300));
    await store.query('COMMIT');
    await store.end();
    expect(await publishing).to.equal('stale');
    expect(await s.reviews.get(study)).to.equal(null);
  });

  it('publishes nothing of a run whose job was handed back (a stop cut it off) or is held by another worker', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const study = input.studyInstanceUID;
    await s.setStudyStatus(study, 'processing');
    const { id } = await s.jobs.enqueue('process', study, {});
    await s.jobs.claim('process', 'w1', 60);
    const review = { studyInstanceUID: study, summary: {}, segSOPInstanceUID: uid(), glbSha256: 'c'.repeat(64) };
    const completed = { type: 'processing.completed', actor: 'process', studyInstanceUID: study, detail: {} };
    expect((await rejection(s.publishReview(review, { supersededSeries: [], audit: completed, job: { id, workerId: 'w2' } }))).code).to.equal('job-lost');
    await s.jobs.release(id, 'w1');
    expect((await rejection(s.publishReview(review, { supersededSeries: [], audit: completed, job: { id, workerId: 'w1' } }))).code).to.equal('job-lost');
    expect(await s.reviews.get(study)).to.equal(null);
    expect((await s.getStudy(study))!.status).to.equal('processing');
    expect(await s.audit.list({ type: 'processing.completed' })).to.deep.equal([]);
    await s.jobs.claim('process', 'w1', 60);
    expect(await s.publishReview(review, { supersededSeries: [], audit: completed, job: { id, workerId: 'w1' } })).to.equal('published');
  });

  it('drops results an earlier run made that the new one did not', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const study = input.studyInstanceUID;
    for (const name of ['model.glb', 'bone.stl', 'liver.stl', 'report.json']) await s.results.put(study, name, 'application/octet-stream', Buffer.from(name));
    expect(await s.results.removeExcept(study, ['model.glb', 'bone.stl', 'report.json'])).to.deep.equal(['liver.stl']);
    expect((await s.results.list(study)).map((r) => r.name)).to.deep.equal(['bone.stl', 'model.glb', 'report.json']);
  });

  it('retries a dead job with a fresh round of attempts, counting on, and nothing else', async () => {
    const s = await h.open();
    const job = await s.jobs.enqueue('export', null, { destination: 'pacs' }, { maxAttempts: 1 });
    expect(await s.jobs.retry(job.id)).to.equal(false);
    const claimed = (await s.jobs.claim('export', 'w', 60))!;
    expect(await s.jobs.fail(claimed.id, 'w', 'association rejected')).to.deep.include({ status: 'dead' });
    expect(await s.jobs.retry(job.id)).to.equal(true);
    const again = (await s.jobs.get(job.id))!;
    expect(again).to.deep.include({ status: 'queued', attempts: 1, maxAttempts: 2, lastError: 'association rejected', finishedAt: null });
    expect(await s.jobs.claim('export', 'w', 60)).to.deep.include({ id: job.id, attempts: 2 });
  });
});
