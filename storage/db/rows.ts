/**
 * Row helpers that hide the two drivers' differences: PostgreSQL returns bigint and count(*)
 * as strings, SQLite as numbers; both return binary columns as Buffer.
 */

/** A bigint/integer column (epoch ms, counts) as a number. */
export function num(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`expected a number, got ${typeof value}`);
  return n;
}

/** A nullable numeric column. */
export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

/** A nullable epoch-ms column as a Date. */
export function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(num(value));
}

/** A JSON text column. */
export function json(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** A JSON text column that holds an object. */
export function jsonObject(value: unknown): Record<string, unknown> {
  const parsed = json(value);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

/** True when a driver error is a unique or primary-key violation. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
