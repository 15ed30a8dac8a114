/**
 * Study completion: a study is complete when no instance has arrived for its route's stable
 * time. Then it becomes `complete` and a `process` job is queued, in one transaction (storage).
 */
import type { Storage } from '../../storage/index.js';
import type { Logger } from '../log/index.js';
import type { EdgeMetrics } from '../metrics/index.js';
import type { Service } from './service.js';

export interface CompletionServiceOptions {
  /** How often stable studies are looked for; at most the smallest stable time. Default 1 s. */
  intervalMs?: number;
  /** Called when process jobs were queued (wakes the pipeline's worker). */
  onJobsQueued?: () => void;
}

export class CompletionService implements Service {
  readonly name = 'completion';
  status: 'stopped' | 'running' = 'stopped';
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  /** Since when, and how many times in a row, the sweep has failed; undefined while it succeeds. */
  private failing?: { since: number; failures: number };

  constructor(
    private readonly storage: Pick<Storage, 'completeStableStudies'>,
    private readonly metrics: EdgeMetrics,
    private readonly logger: Logger,
    private readonly options: CompletionServiceOptions = {},
  ) {}

  async start(): Promise<void> {
    this.status = 'running';
    // Studies that became stable while the process was down complete right away.
    await this.sweep();
    this.timer = setInterval(() => {
      this.running ??= this.sweep().then(() => (this.running = undefined));
    }, this.options.intervalMs ?? 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    this.status = 'stopped';
  }

  /** One pass: complete every stable study. Exposed for tests and `limen` commands. */
  async sweep(): Promise<number> {
    try {
      // The event commits with the completion and its job: the trail never lacks a completed study.
      const done = await this.storage.completeStableStudies({
        audit: (study) => ({ type: 'study.complete', actor: this.name, studyInstanceUID: study.studyInstanceUID, detail: { instanceCount: study.instanceCount, route: study.route } }),
      });
      for (const study of done) {
        this.metrics.studiesCompleted.inc();
        this.logger.info({ id: 'completion.study.complete', msg: 'study complete; process job queued', study: study.studyInstanceUID, instances: study.instanceCount });
      }
      if (done.length > 0) this.options.onJobsQueued?.();
      this.recovered();
      return done.length;
    } catch (err) {
      this.failed(err);
      return 0;
    }
  }

  // A change of state is logged, not every tick: with the database down that was a line a second.
  private failed(err: unknown): void {
    if (this.failing) {
      this.failing.failures += 1;
      return;
    }
    this.failing = { since: Date.now(), failures: 1 };
    this.logger.error({ id: 'completion.sweep.failed', msg: 'completion sweep failed; retrying every tick, logged again when it succeeds', err });
  }

  private recovered(): void {
    if (!this.failing) return;
    const { since, failures } = this.failing;
    this.failing = undefined;
    this.logger.info({ id: 'completion.sweep.recovered', msg: 'completion sweep succeeds again', failures, failingMs: Date.now() - since });
  }
}
