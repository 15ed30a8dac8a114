/**
 * `worker.concurrency` job workers of one type as one service. Each worker claims one job at a time
 * (and runs its pipeline in a worker thread of its own), so up to that many jobs run at once; a
 * stop waits for all of them, or cuts them all off and hands them back.
 */
import type { Job } from '../../storage/index.js';
import type { Service } from '../services/service.js';

/** What the pool needs of a worker (`JobWorker`). */
export interface PooledWorker {
  readonly status: string;
  /** The job it is working on, if any. */
  readonly current: Job | undefined;
  start(): Promise<void>;
  stop(signal?: AbortSignal): Promise<void>;
  poke(): void;
}

/**
 * `concurrency` workers made by `create`, as one service named after the first. Their ids are
 * `baseId` for a single worker (as before there were several), else `baseId-1`, `baseId-2`…
 */
export function workerPool(concurrency: number, baseId: string, create: (workerId: string) => PooledWorker & { readonly name: string }): WorkerPool {
  const workers = Array.from({ length: concurrency }, (_, i) => create(concurrency === 1 ? baseId : `${baseId}-${i + 1}`));
  return new WorkerPool(workers[0].name, workers);
}

export class WorkerPool implements Service {
  constructor(
    readonly name: string,
    private readonly workers: readonly PooledWorker[],
  ) {
    if (workers.length === 0) throw new Error('a worker pool needs at least one worker');
  }

  get status(): string {
    return this.workers[0].status;
  }

  /** The jobs being worked on. */
  get current(): Job[] {
    return this.workers.flatMap((w) => (w.current === undefined ? [] : [w.current]));
  }

  async start(): Promise<void> {
    for (const w of this.workers) await w.start();
  }

  /** Claims nothing more and waits for every job in hand; when `signal` aborts, cuts them all off. */
  async stop(signal?: AbortSignal): Promise<void> {
    // Every worker's stop is waited for, whichever fails.
    const outcomes = await Promise.allSettled(this.workers.map((w) => w.stop(signal)));
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** A job was queued: every idle worker looks at once (one of them claims it). */
  poke(): void {
    for (const w of this.workers) w.poke();
  }
}
