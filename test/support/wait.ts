/** Polling for a condition with a deadline, for tests that wait on another process. */

/** Calls `fn` every `intervalMs` until it returns something other than undefined; throws after `ms`. */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 15_000, what = 'a condition', intervalMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
