import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobWorker, PermanentJobError } from '../../../pipeline/worker/job-worker.js';
import { openStorage, type Storage } from '../../../storage/index.js';
import { until } from '../../support/wait.js';

describe('pipeline/worker JobWorker', () => {
  let dir: string;
  let storage: Storage;
  const workers: JobWorker[] = [];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'limen-worker-'));
    storage = await openStorage({ dataDir: dir, masterKey: randomBytes(32) });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (handler: ConstructorParameters<typeof JobWorker>[1], options: Partial<ConstructorParameters<typeof JobWorker>[2]> = {}) => {
    const w = new JobWorker(storage.jobs, handler, { type: 'work', workerId: 'w1', idleMs: 600_000, ...options });
    workers.push(w);
    await w.start();
    return w;
  };

  it('an idle worker claims a job as soon as it is poked, not at its next poll', async () => {
    const seen: number[] = [];
    const w = await start(async (ctx) => {
      seen.push(ctx.job.id);
      await ctx.progress('half', 50);
      return { ok: true };
    });
    await new Promise((r) => setTimeout(r, 50)); // the worker found nothing and sleeps for ten minutes
    const job = await storage.jobs.enqueue('work', null, {});
    w.poke();
    const done = await until(async () => ((await storage.jobs.get(job.id))?.status === 'done' ? storage.jobs.get(job.id) : undefined), 10_000, 'the poked job');
    expect(seen).to.deep.equal([job.id]);
    expect(done!.result).to.deep.equal({ ok: true });
  });

  it('tells of a job whose worker was lost on its last attempt as of any dead job (the study is not left processing)', async () => {
    const job = await storage.jobs.enqueue('work', null, {}, { maxAttempts: 1 });
    expect((await storage.jobs.claim('work', 'lost', 0.05))!.id).to.equal(job.id);
    await new Promise((r) => setTimeout(r, 100)); // its worker died; the lease runs out
    const failures: Array<{ id: number; outcome: string; message: string }> = [];
    const w = await start(async () => ({ ok: true }), { onError: (j, err, outcome) => failures.push({ id: j.id, outcome, message: (err as Error).message }) });
    w.poke();
    await until(async () => (failures.length > 0 ? true : undefined), 10_000, 'the dead job told');
    expect(failures).to.have.length(1);
    expect(failures[0]).to.include({ id: job.id, outcome: 'dead' });
    expect(failures[0].message).to.match(/lease expired on attempt 1 of 1 \(worker lost\)/);
    expect((await storage.jobs.get(job.id))!.status).to.equal('dead');
  });

  it('commits the event a handler records with the job’s completion, and drops it when the handler fails', async () => {
    const w = await start(
      async (ctx) => {
        const { fail } = ctx.job.payload as { fail: boolean };
        ctx.recordOnCompletion({ type: 'exported', actor: 'exporter', detail: { job: ctx.job.id } });
        if (fail) throw new PermanentJobError('the destination refused it');
        return { ok: true };
      },
      { idleMs: 20 },
    );
    const failing = await storage.jobs.enqueue('work', null, { fail: true });
    const ok = await storage.jobs.enqueue('work', null, { fail: false });
    w.poke();
    await until(async () => ((await storage.jobs.get(ok.id))?.status === 'done' && (await storage.jobs.get(failing.id))?.status === 'dead' ? true : undefined), 10_000, 'both jobs settled');
    expect((await storage.audit.list({ type: 'exported' })).map((e) => e.detail)).to.deep.equal([{ job: ok.id }]);
  });

  it('commits the failure event a handler records with each failed attempt, saying whether it is tried again', async () => {
    const w = await start(
      async (ctx) => {
        if (ctx.job.attempts > 1) ctx.recordOnFailure(({ outcome, error }) => ({ type: 'export.failed', actor: 'exporter', detail: { attempt: ctx.job.attempts, outcome, error } }));
        throw new Error(`attempt ${ctx.job.attempts} refused`);
      },
      { retryDelaysSeconds: [0.05], idleMs: 20 },
    );
    const job = await storage.jobs.enqueue('work', null, {}, { maxAttempts: 3 });
    w.poke();
    await until(async () => ((await storage.jobs.get(job.id))?.status === 'dead' ? true : undefined), 10_000, 'the job dead');
    // The first attempt failed before it recorded anything: nothing of it in the trail.
    expect((await storage.audit.list({ type: 'export.failed' })).map((e) => e.detail)).to.deep.equal([
      { attempt: 2, outcome: 'queued', error: 'attempt 2 refused' },
      { attempt: 3, outcome: 'dead', error: 'attempt 3 refused' },
    ]);
    expect(await storage.audit.verify()).to.deep.include({ ok: true });
  });

  it('retries on the configured schedule, then keeps the error of a dead job; a permanent error is not retried', async () => {
    const errors: string[] = [];
    const w = await start(
      async (ctx) => {
        if ((ctx.job.payload as { permanent?: boolean }).permanent) throw new PermanentJobError('not a CT');
        throw new Error(`attempt ${ctx.job.attempts} failed`);
      },
      { retryDelaysSeconds: [0.05], idleMs: 20, onError: (_job, _err, outcome) => errors.push(outcome) },
    );
    const flaky = await storage.jobs.enqueue('work', null, {}, { maxAttempts: 3 });
    const permanent = await storage.jobs.enqueue('work', null, { permanent: true }, { maxAttempts: 3 });
    w.poke();
    const dead = await until(async () => {
      const [a, b] = [await storage.jobs.get(flaky.id), await storage.jobs.get(permanent.id)];
      return a?.status === 'dead' && b?.status === 'dead' ? { a, b } : undefined;
    }, 10_000, 'both jobs dead');
    expect(dead.a).to.deep.include({ attempts: 3, lastError: 'attempt 3 failed' });
    expect(dead.b).to.deep.include({ attempts: 1, lastError: 'not a CT' });
    expect(errors.filter((e) => e === 'queued')).to.have.length(2);
    expect(errors.filter((e) => e === 'dead')).to.have.length(2);
  });
});
