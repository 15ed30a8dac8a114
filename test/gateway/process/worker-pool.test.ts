/**
 * `worker.concurrency`: the gateway's process workers as one service. With a concurrency of N, N
 * queued jobs are claimed and run at once; a stop waits for every one of them, or cuts them all
 * off and hands them back. The workers here are JobWorkers whose handler holds its job until told.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerPool } from '../../../gateway/process/worker-pool.js';
import { JobWorker } from '../../../pipeline/worker/job-worker.js';
import { openStorage, type Storage } from '../../../storage/index.js';
import { until } from '../../support/wait.js';

describe('gateway/process: worker.concurrency', () => {
  let dir: string;
  let storage: Storage;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'limen-worker-pool-'));
    storage = await openStorage({ dataDir: dir, masterKey: randomBytes(32) });
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A pool of `concurrency` workers whose handlers run until `finish` (or their signal aborts). */
  const holdingPool = (concurrency: number) => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const ids: string[] = [];
    const pool = workerPool(concurrency, 'processor-test', (workerId) => {
      ids.push(workerId);
      return new JobWorker(
        storage.jobs,
        async (ctx) => {
          await Promise.race([finished, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('let go'))))]);
          return { done: true };
        },
        { type: 'process', workerId, leaseSeconds: 120, idleMs: 20 },
      );
    });
    return { pool, finish, ids };
  };
  const running = async () => (await storage.jobs.list({ type: 'process', status: 'running' })).length;

  it('with a concurrency of 2, two queued jobs are both claimed before either finishes; the stop waits for both', async () => {
    const { pool, finish, ids } = holdingPool(2);
    expect(ids).to.deep.equal(['processor-test-1', 'processor-test-2']);
    expect(pool.name).to.equal('process-worker');
    const jobs = [await storage.jobs.enqueue('process', null, {}), await storage.jobs.enqueue('process', null, {})];
    await pool.start();
    await until(() => (pool.current.length === 2 ? true : undefined), 5_000, 'both jobs in hand');
    expect(pool.current.map((j) => j.id).sort()).to.deep.equal(jobs.map((j) => j.id).sort());
    expect(await running()).to.equal(2);

    const stopped = pool.stop();
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(done, 'the stop waits for the jobs in hand').to.equal(false);
    finish();
    await stopped;
    for (const job of jobs) expect(await storage.jobs.get(job.id)).to.include({ status: 'done' });
  });

  it('a stop cut off hands every job in hand back', async () => {
    const { pool } = holdingPool(2);
    const jobs = [await storage.jobs.enqueue('process', null, {}), await storage.jobs.enqueue('process', null, {})];
    await pool.start();
    await until(async () => ((await running()) === 2 ? true : undefined), 5_000, 'both jobs claimed');
    const cutOff = new AbortController();
    const stopped = pool.stop(cutOff.signal);
    cutOff.abort();
    await stopped;
    for (const job of jobs) expect(await storage.jobs.get(job.id)).to.include({ status: 'queued', workerId: null });
  });

  it('with a concurrency of 1 (the default), one job at a time', async () => {
    const { pool, finish, ids } = holdingPool(1);
    expect(ids).to.deep.equal(['processor-test']);
    await storage.jobs.enqueue('process', null, {});
    await storage.jobs.enqueue('process', null, {});
    await pool.start();
    await until(async () => ((await running()) === 1 ? true : undefined), 5_000, 'one job claimed');
    await new Promise((r) => setTimeout(r, 150));
    expect(await running()).to.equal(1);
    finish();
    await pool.stop();
  });
});
