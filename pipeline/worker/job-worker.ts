/**
 * A service that works one job type off the database queue: claim with a lease, keep the lease
 * alive with a heartbeat while the handler runs, then complete or fail (retry with backoff, then
 * dead with the error kept). A job whose worker crashed is claimed again when its lease expires.
 */
import type { AuditEventInput, Job, JobQueue } from '../../storage/index.js';

export interface JobContext {
  job: Job;
  /** Records the stage and percent in the database (visible to admins). */
  progress(stage: string, percent?: number): Promise<void>;
  /** An audit event of what the job did, committed with the job's completion (not if it fails). */
  recordOnCompletion(event: AuditEventInput): void;
}

/** A handler's failure that must not be retried (bad input: the same job would fail again). */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

export interface JobWorkerOptions {
  type: string;
  workerId: string;
  leaseSeconds?: number;
  /** Poll interval when the queue is empty. */
  idleMs?: number;
  /** Delay before attempt n+1 (index n-1); absent: the queue's exponential backoff. */
  retryDelaysSeconds?: readonly number[];
  onError?(job: Job, err: unknown, outcome: string): void;
  onDone?(job: Job, result: unknown): void;
}

export class JobWorker {
  readonly name: string;
  status: 'stopped' | 'running' | 'stopping' = 'stopped';
  private loop?: Promise<void>;
  private wake?: () => void;
  /** A job may have been queued since the last claim found none. */
  private poked = false;

  constructor(
    private readonly jobs: JobQueue,
    private readonly handler: (ctx: JobContext) => Promise<unknown>,
    private readonly options: JobWorkerOptions,
  ) {
    this.name = `${options.type}-worker`;
  }

  async start(): Promise<void> {
    this.status = 'running';
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'stopping';
    this.wake?.();
    await this.loop;
    this.status = 'stopped';
  }

  /** Says a job was just queued: an idle worker claims at once instead of at its next poll. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  /** Claims and runs jobs until none is ready; resolves with how many ran (tests and CLI). */
  async drain(): Promise<number> {
    let n = 0;
    while (await this.runOne()) n++;
    return n;
  }

  private async run(): Promise<void> {
    while (this.status === 'running') {
      let ran = false;
      this.poked = false;
      try {
        ran = await this.runOne();
      } catch {
        ran = false; // the database is unreachable: wait and try again
      }
      if (!ran && this.status === 'running' && !this.poked) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.options.idleMs ?? 1000);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
  }

  private async runOne(): Promise<boolean> {
    const { workerId } = this.options;
    const lease = this.options.leaseSeconds ?? 60;
    const job = await this.jobs.claim(this.options.type, workerId, lease);
    if (!job) return false;
    const beat = setInterval(() => void this.jobs.heartbeat(job.id, workerId, lease).catch(() => {}), (lease * 1000) / 3);
    let audit: AuditEventInput | undefined;
    try {
      const result = await this.handler({
        job,
        progress: async (stage, percent) => void (await this.jobs.progress(job.id, workerId, { stage, percent })),
        recordOnCompletion: (event) => void (audit = event),
      });
      await this.jobs.complete(job.id, workerId, result, audit);
      this.options.onDone?.(job, result);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const delays = this.options.retryDelaysSeconds;
      const outcome = await this.jobs.fail(job.id, workerId, message.slice(0, 2000), {
        retryable: !(err instanceof PermanentJobError),
        delaySeconds: delays?.length ? delays[Math.min(job.attempts - 1, delays.length - 1)] : undefined,
      });
      this.options.onError?.(job, err, outcome.status);
    } finally {
      clearInterval(beat);
    }
    return true;
  }
}
