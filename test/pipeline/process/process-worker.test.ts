/**
 * A process job whose worker was lost on its last attempt fails its study, with the audit event,
 * but only a study that job was working on: a study that a late instance reopened meanwhile
 * belongs to the run that will follow.
 */
import { expect } from 'chai';
import { createProcessWorker } from '../../../pipeline/process/process-worker.js';
import type { Storage } from '../../../storage/index.js';
import { describeEachDatabase } from '../../storage/harness.js';
import { manualClock, studyInputs } from '../../storage/fixtures.js';
import { until } from '../../support/wait.js';

describeEachDatabase('pipeline/process: a process job whose worker was lost', (h) => {
  /** A stored study whose process job (one attempt allowed) was claimed by a worker that then vanished. */
  async function lostRun(): Promise<{ s: Storage; study: string; clock: ReturnType<typeof manualClock> }> {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const inputs = studyInputs(1, 2);
    for (const i of inputs) await s.storeInstance(i);
    const study = inputs[0].studyInstanceUID;
    await s.jobs.enqueue('process', study, { studyInstanceUID: study }, { maxAttempts: 1 });
    await s.jobs.claim('process', 'lost-worker', 120);
    return { s, study, clock };
  }

  const sweep = (s: Storage) => createProcessWorker({ storage: s, config: { routes: {}, models: { dir: '/nonexistent' } } as never, workerId: 'next-worker' }).drain();

  it('fails the study it was processing, with the event', async () => {
    const { s, study, clock } = await lostRun();
    await s.setStudyStatus(study, 'processing');
    clock.advance(121);
    expect(await sweep(s)).to.equal(0);
    await until(async () => ((await s.getStudy(study))!.status === 'failed' ? true : undefined), 5000, 'the study failed');
    const [event] = await s.audit.list({ type: 'processing.failed' });
    expect(event.studyInstanceUID).to.equal(study);
    expect(event.detail).to.deep.include({ code: 'error' });
  });

  it('leaves a study that a late instance reopened as it is', async () => {
    const { s, study, clock } = await lostRun();
    await s.setStudyStatus(study, 'receiving');
    clock.advance(121);
    expect(await sweep(s)).to.equal(0);
    // The failure is recorded (the event), the study's status is not taken from the next run.
    await until(async () => ((await s.audit.list({ type: 'processing.failed' })).length === 1 ? true : undefined), 5000, 'the failure recorded');
    expect((await s.getStudy(study))!.status).to.equal('receiving');
  });
});
