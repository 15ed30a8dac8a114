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
    await s.reviews.open(input.studyInstanceUID);
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
});
