/**
 * Waiting for the viewer to reach a state. OHIF broadcasts some of its changes (display sets
 * added, the grid's state, a viewport's data set) but not all of them: a viewport becoming ready
 * is a React state change with no event. So a condition is checked again on the events that
 * usually mean progress, and on a short poll for the rest.
 */

/** An OHIF pub-sub service, as far as waiting needs it. */
export interface Subscribable {
  subscribe(event: string, cb: (evt: unknown) => void): { unsubscribe(): void };
}

/** A service and the events of it after which the condition is worth checking again. */
export interface WaitSource {
  service: Subscribable | undefined;
  events: readonly (string | undefined)[];
}

export interface WaitOptions {
  timeoutMs: number;
  /** How often to check when no event came; 250 ms by default. */
  pollMs?: number;
  /** Gives up early (the mode was left). */
  signal?: AbortSignal;
}

export const DEFAULT_POLL_MS = 250;

/**
 * Resolves with the first value `check` gives (anything but `null`/`undefined`), or `null` once
 * the timeout passes or the signal aborts. A check that throws counts as "not yet".
 */
export function waitUntil<T>(check: () => T | null | undefined, sources: readonly WaitSource[], options: WaitOptions): Promise<T | null> {
  const attempt = (): T | null => {
    try {
      return check() ?? null;
    } catch {
      return null;
    }
  };
  if (options.signal?.aborted) return Promise.resolve(null);
  const now = attempt();
  if (now !== null) return Promise.resolve(now);

  return new Promise((resolve) => {
    let done = false;
    const subscriptions: { unsubscribe(): void }[] = [];
    const finish = (value: T | null) => {
      if (done) return;
      done = true;
      for (const s of subscriptions) s.unsubscribe();
      clearInterval(poll);
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve(value);
    };
    const recheck = () => {
      if (done) return;
      const value = attempt();
      if (value !== null) finish(value);
    };
    const onAbort = () => finish(null);
    for (const { service, events } of sources) {
      if (!service) continue;
      for (const event of events) if (event) subscriptions.push(service.subscribe(event, recheck));
    }
    const poll = setInterval(recheck, options.pollMs ?? DEFAULT_POLL_MS);
    const timer = setTimeout(() => finish(attempt()), options.timeoutMs);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
