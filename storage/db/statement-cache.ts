/**
 * knex prepares every query afresh; on better-sqlite3 that compiles the SQL each time, a large
 * share of a short query's cost. The connection keeps the statements of the most recent SQL
 * texts and hands them out again. Reuse is safe: knex runs each statement to completion
 * (`all` or `run`) before it prepares the next, and SQLite recompiles a cached statement
 * itself when the schema changes.
 */

/** How many distinct SQL texts are kept (knex's SQL differs only by shape, not by value). */
export const STATEMENT_CACHE_SIZE = 256;

interface Preparer {
  prepare(source: string): unknown;
}

/** Makes `conn.prepare` return a cached statement for SQL it has seen recently. */
export function cacheStatements(conn: Preparer, size = STATEMENT_CACHE_SIZE): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (source: string) => {
    const hit = cache.get(source);
    if (hit !== undefined) {
      // Map order is insertion order: re-inserting marks it most recently used.
      cache.delete(source);
      cache.set(source, hit);
      return hit;
    }
    const statement = prepare(source);
    cache.set(source, statement);
    if (cache.size > size) cache.delete(cache.keys().next().value as string);
    return statement;
  };
}
