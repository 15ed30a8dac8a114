import { expect } from 'chai';
import { describeEachDatabase } from './harness.js';
import { instanceInput, manualClock, studyInputs } from './fixtures.js';

describeEachDatabase('storage: study completion', (h) => {
  it('completes a study after its stable time, and queues one process job with it', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const inputs = studyInputs(1, 3, { stableSeconds: 10 });
    for (const i of inputs) {
      await s.storeInstance(i);
      clock.advance(4);
    }
    // Last instance arrived 4 s ago.
    expect(await s.completeStableStudies()).to.deep.equal([]);
    clock.advance(6);
    const done = await s.completeStableStudies();
    expect(done).to.have.length(1);
    expect(done[0]).to.include({ studyInstanceUID: inputs[0].studyInstanceUID, route: 'default', instanceCount: 3, seriesCount: 1 });
    const study = await s.getStudy(inputs[0].studyInstanceUID);
    expect(study!.status).to.equal('complete');
    expect(study!.completedAt!.getTime()).to.equal(clock.now().getTime());
    const jobs = await s.jobs.list({ studyInstanceUID: inputs[0].studyInstanceUID });
    expect(jobs).to.have.length(1);
    expect(jobs[0]).to.include({ id: done[0].jobId, type: 'process', status: 'queued' });
    expect(jobs[0].payload).to.deep.equal({ studyInstanceUID: inputs[0].studyInstanceUID });

    clock.advance(60);
    expect(await s.completeStableStudies()).to.deep.equal([]);
    expect(await s.jobs.list({ type: 'process' })).to.have.length(1);
  });

  it('appends the completion audit event in the completion transaction: both, or neither', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const [first, second] = [instanceInput(), instanceInput()];
    await s.storeInstance(first);
    clock.advance(11);
    const audit = (c: { studyInstanceUID: string; instanceCount: number }) => ({ type: 'study.complete', actor: 'test', studyInstanceUID: c.studyInstanceUID, detail: { instanceCount: c.instanceCount } });
    const done = await s.completeStableStudies({ audit });
    expect(done.map((d) => d.studyInstanceUID)).to.deep.equal([first.studyInstanceUID]);
    const events = await s.audit.list({ type: 'study.complete' });
    expect(events.map((e) => [e.studyInstanceUID, e.detail.instanceCount, e.at.getTime()])).to.deep.equal([[first.studyInstanceUID, 1, clock.now().getTime()]]);
    expect(await s.audit.verify()).to.include({ ok: true });

    // An event that cannot be written takes the completion and its job back with it.
    await s.storeInstance(second);
    clock.advance(11);
    const broken = await s.completeStableStudies({ audit: () => ({ type: '' }) }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(broken?.code).to.equal('invalid-input');
    expect((await s.getStudy(second.studyInstanceUID))!.status).to.equal('receiving');
    expect(await s.jobs.list({ studyInstanceUID: second.studyInstanceUID })).to.deep.equal([]);
  });

  it('a status change and the event of what changed it commit together', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const study = input.studyInstanceUID;
    const event = (type: string) => ({ type, actor: 'test', studyInstanceUID: study });
    expect(await s.setStudyStatus(study, 'processing', { audit: event('processing.started') })).to.equal(true);
    expect((await s.getStudy(study))!.status).to.equal('processing');
    // The event records what happened (a delivery) even where the status had moved on meanwhile.
    expect(await s.setStudyStatus(study, 'delivered', { from: 'approved', audit: event('exported') })).to.equal(false);
    expect((await s.getStudy(study))!.status).to.equal('processing');
    // An event that cannot be written: no change either.
    const broken = await s.setStudyStatus(study, 'failed', { audit: event('') }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    );
    expect(broken?.code).to.equal('invalid-input');
    expect((await s.getStudy(study))!.status).to.equal('processing');
    expect((await s.audit.list({ studyInstanceUID: study })).map((e) => e.type)).to.deep.equal(['processing.started', 'exported']);
    expect(await s.audit.verify()).to.include({ ok: true });
  });

  it('completes exactly once when several schedulers run at the same moment', async () => {
    const clock = manualClock();
    // Two pools on PostgreSQL; on SQLite a process has one connection, so concurrency is in-process.
    const a = await h.open({ now: clock.now });
    const b = h.dialect === 'postgres' ? await h.open({ now: clock.now }) : a;
    const inputs = [instanceInput(), instanceInput(), instanceInput()];
    for (const i of inputs) await a.storeInstance(i);
    clock.advance(11);
    const results = await Promise.all([a.completeStableStudies(), b.completeStableStudies(), a.completeStableStudies(), b.completeStableStudies()]);
    const completed = results.flat().map((c) => c.studyInstanceUID).sort();
    expect(completed).to.deep.equal(inputs.map((i) => i.studyInstanceUID).sort());
    expect(await a.jobs.list({ type: 'process' })).to.have.length(3);
  });

  it('uses each study’s own stable time, or the per-route override', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const quick = instanceInput({ stableSeconds: 1, route: 'fast' });
    const slow = instanceInput({ stableSeconds: 60, route: 'slow' });
    await s.storeInstance(quick);
    await s.storeInstance(slow);
    clock.advance(2);
    expect((await s.completeStableStudies()).map((c) => c.studyInstanceUID)).to.deep.equal([quick.studyInstanceUID]);
    expect((await s.completeStableStudies({ stableSecondsByRoute: { slow: 2 } })).map((c) => c.studyInstanceUID)).to.deep.equal([slow.studyInstanceUID]);
  });

  it('an instance arriving within the stable time postpones completion', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const [first, second] = studyInputs(1, 2, { stableSeconds: 10 });
    await s.storeInstance(first);
    clock.advance(8);
    await s.storeInstance(second);
    clock.advance(8);
    expect(await s.completeStableStudies()).to.deep.equal([]);
    clock.advance(2);
    expect(await s.completeStableStudies()).to.have.length(1);
  });

  it('a late instance reopens a completed study whose job nobody has claimed, withdrawing that job', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const [first, late, later] = studyInputs(1, 3);
    await s.storeInstance(first);
    clock.advance(11);
    const [done] = await s.completeStableStudies();
    const result = await s.storeInstance(late);
    expect(result).to.include({ reopened: true, studyStatus: 'receiving' });
    expect((await s.jobs.get(done.jobId))!.status).to.equal('cancelled');
    expect(await s.jobs.claim('process', 'w', 30)).to.equal(null);
    clock.advance(11);
    const [again] = await s.completeStableStudies();
    expect(again.instanceCount).to.equal(2);

    // Once a worker holds the job, a late instance is stored but does not reopen the study.
    expect((await s.jobs.claim('process', 'w', 30))!.id).to.equal(again.jobId);
    const after = await s.storeInstance(later);
    expect(after).to.include({ reopened: false, studyStatus: 'complete', duplicate: false });
    expect((await s.getStudy(first.studyInstanceUID))!.instanceCount).to.equal(3);
  });

  it('a late instance reopens a study whose result nobody approved (failed, awaiting review, rejected), withdrawing its open review; approved stays', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    for (const from of ['failed', 'awaiting_review', 'rejected', 'approved', 'delivered'] as const) {
      const [first, late] = studyInputs(1, 2);
      const study = first.studyInstanceUID;
      await s.storeInstance(first);
      await s.setStudyStatus(study, from);
      if (from === 'awaiting_review') await s.reviews.create({ studyInstanceUID: study, summary: {}, segSOPInstanceUID: late.sopInstanceUID.replace(/\d$/, '9'), glbSha256: 'a'.repeat(64) });
      const result = await s.storeInstance(late);
      const reopens = from !== 'approved' && from !== 'delivered';
      expect(result, from).to.deep.include(reopens ? { reopened: true, reopenedFrom: from, studyStatus: 'receiving' } : { reopened: false, studyStatus: from });
      expect((await s.getStudy(study))!.status, from).to.equal(reopens ? 'receiving' : from);
      if (from === 'awaiting_review') expect(await s.reviews.get(study)).to.equal(null);
      // Completing again processes the whole study.
      clock.advance(11);
      const done = await s.completeStableStudies();
      expect(done.map((d) => [d.studyInstanceUID, d.instanceCount]), from).to.deep.equal(reopens ? [[study, 2]] : []);
    }
  });
});
