/**
 * Says a repeated message once per window, not each time. For a source that repeats itself while
 * a condition lasts (the database driver, about three times a second while PostgreSQL is down):
 * the first occurrence is logged at once; the same text again within the window is counted, and
 * the next one logged after the window says how many were left out. Pure but for the clock given.
 */
export function sayRepeatsOnce<T extends unknown[]>(say: (key: string, repeated: number, ...rest: T) => void, windowMs: number, now: () => number = Date.now) {
  const seen = new Map<string, { at: number; repeated: number }>();
  return (key: string, ...rest: T): void => {
    const t = now();
    const last = seen.get(key);
    if (last && t - last.at < windowMs) {
      last.repeated += 1;
      return;
    }
    // Forget what has been quiet a while, so the map holds only what still repeats.
    for (const [k, v] of seen) if (t - v.at >= windowMs) seen.delete(k);
    say(key, last?.repeated ?? 0, ...rest);
    seen.set(key, { at: t, repeated: 0 });
  };
}
