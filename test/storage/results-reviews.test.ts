import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeEachDatabase } from './harness.js';
import { instanceInput, rejection } from './fixtures.js';

describeEachDatabase('storage: results and reviews', (h) => {
  it('stores result files encrypted, replaces them by name, and loses them with the study key', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const glb = Buffer.from('glTF-marker-Mustermann-result');
    const info = await s.results.put(input.studyInstanceUID, 'model.glb', 'model/gltf-binary', glb);
    expect(info.sha256).to.match(/^[0-9a-f]{64}$/);
    expect((await s.results.get(input.studyInstanceUID, 'model.glb'))!.bytes.equals(glb)).to.equal(true);
    await s.results.put(input.studyInstanceUID, 'model.glb', 'model/gltf-binary', Buffer.from('second'));
    expect((await s.results.get(input.studyInstanceUID, 'model.glb'))!.bytes.toString()).to.equal('second');
    expect((await s.results.list(input.studyInstanceUID)).map((r) => r.name)).to.deep.equal(['model.glb']);
    expect(await s.results.get(input.studyInstanceUID, 'missing.stl')).to.equal(null);
    expect((await rejection(s.results.put(input.studyInstanceUID, '../x', 'a/b', glb))).code).to.equal('invalid-input');
    // Nothing in clear on disk.
    const files: string[] = [];
    const walk = (d: string): void => readdirSync(d).forEach((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : files.push(join(d, f))));
    walk(h.dataDir);
    for (const f of files) expect(readFileSync(f).includes('Mustermann-result'), f).to.equal(false);
    // The sweep keeps referenced result blobs.
    await s.sweepOrphanBlobs({ olderThanSeconds: 0 });
    expect((await s.results.get(input.studyInstanceUID, 'model.glb'))!.bytes.toString()).to.equal('second');
    await s.destroyStudyKey(input.studyInstanceUID);
    expect((await rejection(s.results.get(input.studyInstanceUID, 'model.glb'))).code).to.equal('study-key-destroyed');
  });

  it('a review is decided once, records who, when, what and why, and refuses a stale decision', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const r = await s.reviews.create({ studyInstanceUID: input.studyInstanceUID, summary: { model: 'default' }, segSOPInstanceUID: '2.25.1', glbSha256: 'a'.repeat(64) });
    expect(r.status).to.equal('pending');
    await s.reviews.open(input.studyInstanceUID, 'reviewer-1');
    expect((await s.reviews.get(input.studyInstanceUID))!.status).to.equal('in_review');
    expect(await s.reviews.list(['pending'])).to.have.length(0);
    const stale = await s.reviews.decide(input.studyInstanceUID, 'approve', 'reviewer-1', null, { glbSha256: 'b'.repeat(64) });
    expect(stale).to.deep.include({ ok: false, reason: 'stale' });
    const d = await s.reviews.decide(input.studyInstanceUID, 'reject', 'reviewer-1', 'bone contour leaks into the table', { segSOPInstanceUID: '2.25.1' });
    expect(d.ok).to.equal(true);
    if (!d.ok) return;
    expect(d.review).to.deep.include({ status: 'rejected', decidedBy: 'reviewer-1', comment: 'bone contour leaks into the table', segSOPInstanceUID: '2.25.1' });
    expect(d.review.decidedAt).to.be.instanceOf(Date);
    expect(await s.reviews.decide(input.studyInstanceUID, 'approve', 'reviewer-2', null)).to.deep.include({ ok: false, reason: 'already-decided' });
    expect(await s.reviews.decide('2.25.999', 'approve', 'x', null)).to.deep.equal({ ok: false, reason: 'not-found' });
  });

  it('a review opened by a second reviewer keeps who opened it first, and when', async () => {
    let now = Date.UTC(2026, 2, 4, 9, 15);
    const s = await h.open({ now: () => new Date(now) });
    const input = instanceInput();
    await s.storeInstance(input);
    await s.reviews.create({ studyInstanceUID: input.studyInstanceUID, summary: {}, segSOPInstanceUID: '2.25.1', glbSha256: 'a'.repeat(64) });
    expect(await s.reviews.get(input.studyInstanceUID)).to.deep.include({ openedBy: null, openedAt: null });
    await s.reviews.open(input.studyInstanceUID, 'dr-x');
    now += 20 * 60_000;
    await s.reviews.open(input.studyInstanceUID, 'dr-y');
    const r = (await s.reviews.get(input.studyInstanceUID))!;
    expect(r).to.deep.include({ status: 'in_review', openedBy: 'dr-x' });
    expect(r.openedAt?.toISOString()).to.equal('2026-03-04T09:15:00.000Z');
    expect((await s.reviews.list(['in_review']))[0]).to.deep.include({ openedBy: 'dr-x' });
    // The decision, by whoever makes it, leaves the opening as it was.
    const d = await s.reviews.decide(input.studyInstanceUID, 'approve', 'dr-y', null);
    expect(d.ok && d.review).to.deep.include({ openedBy: 'dr-x', decidedBy: 'dr-y' });
    expect(d.ok && d.review.openedAt?.toISOString()).to.equal('2026-03-04T09:15:00.000Z');
  });

  it('an approval, the study status, its export jobs and its audit event commit together, or none of them does', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    await s.reviews.create({ studyInstanceUID: input.studyInstanceUID, summary: {}, segSOPInstanceUID: '2.25.1', glbSha256: 'a'.repeat(64) });
    const effects = (audit: (r: { segSOPInstanceUID: string }) => { type: string; studyInstanceUID?: string; detail?: Record<string, unknown> }) => ({
      studyStatus: 'approved' as const,
      jobs: [
        { type: 'export', payload: { destination: 'pacs' }, maxAttempts: 3 },
        { type: 'export', payload: { destination: 'archive' }, maxAttempts: 3 },
      ],
      audit,
    });

    // An event that cannot be written: the review stays undecided, and nothing else changed.
    const broken = await rejection(s.reviews.decide(input.studyInstanceUID, 'approve', 'reviewer-1', null, undefined, effects(() => ({ type: '' }))));
    expect(broken.code).to.equal('invalid-input');
    expect((await s.reviews.get(input.studyInstanceUID))!.status).to.equal('pending');
    expect((await s.getStudy(input.studyInstanceUID))!.status).to.equal('receiving');
    expect(await s.jobs.list({ studyInstanceUID: input.studyInstanceUID })).to.deep.equal([]);

    const d = await s.reviews.decide(input.studyInstanceUID, 'approve', 'reviewer-1', null, undefined, effects((r) => ({ type: 'review.approved', studyInstanceUID: input.studyInstanceUID, detail: { segSOPInstanceUID: r.segSOPInstanceUID } })));
    expect(d.ok).to.equal(true);
    expect((await s.getStudy(input.studyInstanceUID))!.status).to.equal('approved');
    const jobs = await s.jobs.list({ studyInstanceUID: input.studyInstanceUID });
    expect(jobs.map((j) => [j.type, (j.payload as { destination: string }).destination, j.status, j.maxAttempts])).to.deep.equal([
      ['export', 'pacs', 'queued', 3],
      ['export', 'archive', 'queued', 3],
    ]);
    const events = await s.audit.list({ type: 'review.approved' });
    expect(events.map((e) => e.detail.segSOPInstanceUID)).to.deep.equal(['2.25.1']);
    expect(await s.audit.verify()).to.include({ ok: true });
  });
});
