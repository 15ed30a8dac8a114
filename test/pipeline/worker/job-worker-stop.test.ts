/**
 * Stopping a JobWorker with a job in hand: it waits for the job, unless the stop's signal aborts
 * first; then the handler is told to let go (a pipeline terminates its worker thread) and the job
 * is handed back to the queue, claimable at once instead of when its lease runs out.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobWorker, type JobContext } from '../../../pipeline/worker/job-worker.js';
import { runPipelineInWorker } from '../../../pipeline/process/run-in-worker.js';
import { openStorage, type Storage } from '../../../storage/index.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { until } from '../../support/wait.js';

describe('pipeline/worker JobWorker stop', () => {
  let dir: string;
  let storage: Storage;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'limen-worker-stop-'));
    storage = await openStorage({ dataDir: dir, masterKey: randomBytes(32) });
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A worker whose handler runs until its signal aborts (or `finish` is called). */
  const startHanging = async () => {
    let seen: JobContext | undefined;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const worker = new JobWorker(
      storage.jobs,
      async (ctx) => {
        seen = ctx;
        await Promise.race([finished, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('let go'))))]);
        return { done: true };
      },
      { type: 'work', workerId: 'w1', leaseSeconds: 120, idleMs: 20 },
    );
    await worker.start();
    const job = await storage.jobs.enqueue('work', null, {});
    await until(() => (worker.current?.id === job.id ? true : undefined), 5_000, 'the job in hand');
    return { worker, job, ctx: () => seen!, finish };
  };

  it('without a deadline waits for the job in hand and completes it', async () => {
    const { worker, job, finish } = await startHanging();
    const stopped = worker.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(worker.status).to.equal('stopping');
    finish();
    await stopped;
    expect(await storage.jobs.get(job.id)).to.include({ status: 'done' });
  });

  it('past the deadline cuts the job off and releases its lease: claimable at once, not failed', async () => {
    const { worker, job, ctx } = await startHanging();
    const deadline = new AbortController();
    const stopped = worker.stop(deadline.signal);
    await new Promise((r) => setTimeout(r, 100));
    expect(worker.status, 'waiting for the job').to.equal('stopping');
    deadline.abort();
    await stopped;
    expect(ctx().signal.aborted, 'the handler was told to let go').to.equal(true);
    expect(worker.current).to.equal(undefined);
    const released = (await storage.jobs.get(job.id))!;
    expect(released).to.include({ status: 'queued', workerId: null, attempts: 0, lastError: null });
    expect(released.runAt.getTime()).to.be.at.most(Date.now());
    // The handler's late failure ("let go") is not recorded against the job.
    await new Promise((r) => setTimeout(r, 50));
    expect((await storage.jobs.get(job.id))!.status).to.equal('queued');
    expect(await storage.jobs.claim('work', 'next-start', 120)).to.include({ id: job.id, attempts: 1 });
  });

  it('a pipeline run whose signal aborts ends at once (its worker told to stop, never terminated inside onnxruntime), not when the pipeline is done', async function () {
    this.timeout(30_000);
    const abort = new AbortController();
    const instances = CT_FAKEPHI_FILES.map((f) => ({ bytes: readFileSync(f) }));
    let started = false;
    const run = runPipelineInWorker({ instances, modelDir: join(process.cwd(), 'models', 'default'), signal: abort.signal, onProgress: () => (started = true) });
    await until(() => (started ? true : undefined), 20_000, 'the pipeline under way');
    const t0 = Date.now();
    abort.abort();
    const err = await run.then(() => undefined, (e: Error) => e);
    expect(err?.message).to.equal('the pipeline was stopped before it finished');
    expect(Date.now() - t0).to.be.below(500);
  });
});
