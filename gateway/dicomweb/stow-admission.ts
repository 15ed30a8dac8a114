/**
 * How many STOW-RS requests read their bodies at once, for the whole app. A request holds a few
 * instances in memory while it runs (the part being read and those being stored), so this is what
 * bounds the instances a burst of senders can make Limen hold. A request beyond the limit waits
 * with its body unread, the sender held back by TCP; one that waits too long is answered 503 with
 * Retry-After, nothing of it read or stored.
 */
export class StowAdmission {
  private running = 0;
  private readonly queue: Array<(admitted: boolean) => void> = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxWaitMs: number,
  ) {}

  /** A release function once admitted, or undefined when `maxWaitMs` passed first. */
  async admit(): Promise<(() => void) | undefined> {
    if (this.running < this.maxConcurrent) {
      this.running += 1;
      return this.releaser();
    }
    const admitted = await new Promise<boolean>((resolve) => {
      const wake = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(wake), 1);
        resolve(false);
      }, this.maxWaitMs);
      this.queue.push(wake);
    });
    // A released slot passes straight to the first waiter: `running` never dropped.
    return admitted ? this.releaser() : undefined;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next(true);
      else this.running -= 1;
    };
  }
}
