/**
 * A service that works one job type off the database queue: claim with a lease, keep the lease
 * alive with a heartbeat while the handler runs, then complete or fail (retry with backoff, then
 * dead with the error kept). A job whose worker crashed is claimed again when its lease expires;
 * one whose worker was stopped before it finished is handed back at once (`stop` with a signal).
 */
import type { AuditEventInput, Job, JobQueue, StudySettlement } from '../../storage/index.js';

export interface JobContext {
  job: Job;
  /** Records the stage and percent in the database (visible to admins). */
  progress(stage: string, percent?: number): Promise<void>;
  /** An audit event of what the job did, committed with the job's completion (not if it fails). */
  recordOnCompletion(event: AuditEventInput): void;
  /** The job is one of a set for its study: the last of them to complete moves the study, committed with it. */
  settlesStudy(settlement: StudySettlement): void;
  /** An audit event of this attempt's failure, committed with it: whether it is tried again, and why. */
  recordOnFailure(event: (failure: JobFailure) => AuditEventInput): void;
  /** Aborted when the worker is stopped before the job ends: let go (a worker thread is terminated). */
  signal: AbortSignal;
}

/** How an attempt ended when it failed: `queued` to be tried again, or `dead`; `error` is the job row's PHI-free message. */
export interface JobFailure {
  outcome: 'queued' | 'dead';
  error: string;
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
  private working?: { job: Job; abort: AbortController; beat: NodeJS.Timeout };

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

  /** The job being worked on, if any. */
  get current(): Job | undefined {
    return this.working?.job;
  }

  /**
   * Claims nothing more and waits for the job in hand. When `signal` aborts first, the job is cut
   * off (its handler's signal aborts) and released, to be claimed again at once by the next worker
   * rather than when its lease runs out; its handler's late outcome is then ignored.
   */
  async stop(signal?: AbortSignal): Promise<void> {
    if (this.status !== 'running') return;
    this.status = 'stopping';
    this.wake?.();
    let onAbort: (() => void) | undefined;
    // With no job in hand the loop ends by itself (a job it claims meanwhile is handed back).
    const cutOff = new Promise<void>((resolve) => {
      onAbort = () => {
        if (this.working) void this.abandon().finally(resolve);
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.loop, cutOff]);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    this.status = 'stopped';
  }

  /** Cuts the job in hand off and hands it back to the queue. */
  private async abandon(): Promise<void> {
    const working = this.working;
    if (!working) return;
    this.working = undefined;
    clearInterval(working.beat);
    working.abort.abort();
    // Unreleased, the job waits out its lease: that is all a failure here costs.
    await this.jobs.release(working.job.id, this.options.workerId).catch(() => false);
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
    // A job whose worker was lost on its last attempt dies in the claim: its failure is told as any other's.
    const onDead = (dead: Job) => this.options.onError?.(dead, new Error(dead.lastError ?? 'its worker was lost'), 'dead');
    const job = await this.jobs.claim(this.options.type, workerId, lease, { onDead });
    if (!job) return false;
    if (this.status === 'stopping') {
      await this.jobs.release(job.id, workerId);
      return false;
    }
    const beat = setInterval(() => void this.jobs.heartbeat(job.id, workerId, lease).catch(() => {}), (lease * 1000) / 3);
    const working = { job, abort: new AbortController(), beat };
    this.working = working;
    // Abandoned by stop(): released already, so neither its result nor its failure is recorded.
    const abandoned = () => this.working !== working;
    let audit: AuditEventInput | undefined;
    let settles: StudySettlement | undefined;
    let failureAudit: ((failure: JobFailure) => AuditEventInput) | undefined;
    try {
      const result = await this.handler({
        job,
        progress: async (stage, percent) => void (await this.jobs.progress(job.id, workerId, { stage, percent })),
        recordOnCompletion: (event) => void (audit = event),
        settlesStudy: (settlement) => void (settles = settlement),
        recordOnFailure: (event) => void (failureAudit = event),
        signal: working.abort.signal,
      });
      if (abandoned()) return true;
      await this.jobs.complete(job.id, workerId, result, audit, settles);
      this.options.onDone?.(job, result);
    } catch (err) {
      if (abandoned()) return true;
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
      const delays = this.options.retryDelaysSeconds;
      const recorded = failureAudit;
      const outcome = await this.jobs.fail(job.id, workerId, message, {
        retryable: !(err instanceof PermanentJobError),
        delaySeconds: delays?.length ? delays[Math.min(job.attempts - 1, delays.length - 1)] : undefined,
        ...(recorded && { audit: (o: JobFailure['outcome']) => recorded({ outcome: o, error: message }) }),
      });
      this.options.onError?.(job, err, outcome.status);
    } finally {
      clearInterval(beat);
      if (!abandoned()) this.working = undefined;
    }
    return true;
  }
}
