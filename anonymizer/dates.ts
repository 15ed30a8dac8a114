/** Shifting DA and DT values by whole days, for the Modified Dates option (PS3.15 E.3.6). */

const DAY_MS = 86_400_000;

/** A DA value (YYYYMMDD) moved `days` back; undefined when it is not a valid date. */
export function shiftDate(da: string, days: number): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da);
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3]);
  const d = new Date(t);
  if (d.getUTCFullYear() !== +m[1] || d.getUTCMonth() !== +m[2] - 1 || d.getUTCDate() !== +m[3]) return undefined;
  const s = new Date(t - days * DAY_MS);
  return `${String(s.getUTCFullYear()).padStart(4, '0')}${String(s.getUTCMonth() + 1).padStart(2, '0')}${String(s.getUTCDate()).padStart(2, '0')}`;
}

/** A DT value with its date part moved; time, fraction and UTC offset kept. A year-only or year-month DT is moved too. */
export function shiftDateTime(dt: string, days: number): string | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(.*)$/.exec(dt);
  if (!m) return undefined;
  const shifted = shiftDate(`${m[1]}${m[2] ?? '01'}${m[3] ?? '01'}`, days);
  if (!shifted) return undefined;
  return shifted.slice(0, 4 + (m[2] ? 2 : 0) + (m[3] ? 2 : 0)) + m[4];
}
