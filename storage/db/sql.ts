/**
 * Plain SQL for the edge's hot path (storing an instance, appending an audit event), without a
 * query builder: per statement the builder costs more main-thread time than SQLite takes to run
 * it. Statements are written once, in SQL both databases accept, with `?` placeholders:
 *   - SQLite runs them synchronously on the one better-sqlite3 connection (statements cached),
 *     the transaction opened with BEGIN IMMEDIATE (the write lock at once, waiting up to the busy
 *     timeout) and flushed like every write transaction (`writeTransaction`);
 *   - PostgreSQL runs them through knex's `raw` inside a knex transaction.
 */
import type { Knex } from 'knex';
import type { Database } from './connect.js';
import { onSqliteConnection } from './transaction.js';

export type Row = Record<string, unknown>;

/** Runs statements on one connection (inside a transaction, or not). */
export interface Sql {
  readonly dialect: Database['dialect'];
  /** The key audit events appended through this connection are sealed with (`Database.auditKey`). */
  readonly auditKey?: Uint8Array;
  /** The first row a statement returns (SELECT, or INSERT/UPDATE … RETURNING), or undefined. */
  first(sql: string, params?: readonly unknown[]): Promise<Row | undefined>;
  /** Runs a statement that returns no rows; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

interface Statement {
  reader: boolean;
  get(params: readonly unknown[]): Row | undefined;
  run(params: readonly unknown[]): { changes: number };
}

interface SqliteConnection {
  prepare(sql: string): Statement;
  pragma(source: string): unknown;
  readonly inTransaction: boolean;
}

interface PoolClient {
  acquireConnection(): Promise<SqliteConnection>;
  releaseConnection(conn: SqliteConnection): Promise<unknown>;
}

function sqliteSql(conn: SqliteConnection, auditKey: Uint8Array | undefined): Sql {
  return {
    dialect: 'sqlite',
    auditKey,
    first: async (sql, params = []) => conn.prepare(sql).get(params),
    run: async (sql, params = []) => conn.prepare(sql).run(params).changes,
  };
}

function pgSql(q: Knex | Knex.Transaction, auditKey: Uint8Array | undefined): Sql {
  return {
    dialect: 'postgres',
    auditKey,
    first: async (sql, params = []) => ((await q.raw(sql, params as Knex.RawBinding[])) as { rows: Row[] }).rows[0],
    run: async (sql, params = []) => ((await q.raw(sql, params as Knex.RawBinding[])) as { rowCount: number | null }).rowCount ?? 0,
  };
}

/**
 * The same statements inside a knex transaction, for a step that must commit with what the
 * transaction writes (an audit event with a study's completion).
 */
export function sqlIn(trx: Knex.Transaction, db: Pick<Database, 'dialect' | 'auditKey'>): Sql {
  const { dialect, auditKey } = db;
  if (dialect === 'postgres') return pgSql(trx, auditKey);
  // knex's better-sqlite3 client answers rows for statements that return them, else { changes }.
  return {
    dialect,
    auditKey,
    first: async (sql, params = []) => {
      const out = (await trx.raw(sql, params as Knex.RawBinding[])) as Row[] | { changes: number };
      return Array.isArray(out) ? out[0] : undefined;
    },
    run: async (sql, params = []) => {
      const out = (await trx.raw(sql, params as Knex.RawBinding[])) as Row[] | { changes: number };
      return Array.isArray(out) ? out.length : out.changes;
    },
  };
}

/** Runs `fn` outside a transaction (reads, single statements). */
export async function withSql<T>(db: Database, fn: (sql: Sql) => Promise<T>): Promise<T> {
  if (db.dialect === 'postgres') return fn(pgSql(db.knex, db.auditKey));
  const client = db.knex.client as PoolClient;
  const conn = await client.acquireConnection();
  try {
    return await fn(sqliteSql(conn, db.auditKey));
  } finally {
    await client.releaseConnection(conn);
  }
}

/**
 * Runs `fn` in a write transaction and resolves once its commit is durable, like
 * `writeTransaction`: on an SQLite file the COMMIT runs under `synchronous = NORMAL` and then
 * waits for the shared off-thread WAL flush; the connection is held from the pragma to its reset.
 */
export async function sqlTransaction<T>(db: Database, fn: (sql: Sql) => Promise<T>): Promise<T> {
  if (db.dialect === 'postgres') return db.knex.transaction((trx) => fn(pgSql(trx, db.auditKey)));
  return onSqliteConnection(db, async (conn: SqliteConnection) => {
    conn.prepare('BEGIN IMMEDIATE').run([]);
    try {
      const result = await fn(sqliteSql(conn, db.auditKey));
      conn.prepare('COMMIT').run([]);
      return result;
    } catch (err) {
      // SQLite may already have rolled back on its own (some errors end the transaction).
      if (conn.inTransaction) conn.prepare('ROLLBACK').run([]);
      throw err;
    }
  });
}
