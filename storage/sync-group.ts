/**
 * Group commit for one flush operation (an fsync of a file or a directory). A caller asks for a
 * flush that starts after its own write; callers that ask while a flush is running all share
 * the next one, which starts as soon as the running one ends. N concurrent writers therefore
 * pay about two flushes, not N.
 */

export interface SyncGroupOptions {
  /**
   * After a failed flush, fail every later one too. Right for a file whose unflushed pages the
   * kernel may have dropped on error (an fsync that succeeds later would prove nothing).
   */
  sticky?: boolean;
}

export class SyncGroup {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private failure: unknown;
  private failed = false;

  constructor(
    private readonly flush: () => Promise<void>,
    private readonly options: SyncGroupOptions = {},
  ) {}

  /** True when no flush is running or waiting to run. */
  get idle(): boolean {
    return !this.running && !this.queued;
  }

  /** Resolves once a flush that started after this call has completed. */
  sync(): Promise<void> {
    if (this.failed) return Promise.reject(this.failure);
    if (!this.running) return this.start();
    // The running flush may have started before the caller's write: wait for the next one.
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    if (this.failed) return Promise.reject(this.failure);
    return this.start();
  }

  private start(): Promise<void> {
    const p = this.flush().then(
      () => {
        if (this.running === p) this.running = undefined;
      },
      (err: unknown) => {
        if (this.running === p) this.running = undefined;
        if (this.options.sticky) {
          this.failed = true;
          this.failure = err;
        }
        throw err;
      },
    );
    this.running = p;
    return p;
  }
}
