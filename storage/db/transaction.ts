/**
 * Write transactions, durable when they resolve.
 *
 * SQLite starts a plain BEGIN as a reader and fails at once (SQLITE_BUSY) if it later needs to
 * write after another connection wrote; taking the write lock with the first statement lets the
 * busy timeout wait instead. That matters when a second process (`limen token create`, a CLI
 * command) shares the file with the server.
 *
 * On an SQLite file the commit does not flush the WAL on the event loop: the transaction
 * commits with `synchronous = NORMAL` (frames written, not flushed; SQLite keeps that
 * crash-consistent) and then waits for the shared, off-thread flush of the WAL (`walSyncGroup`),
 * so commits that finish together share one fdatasync. It resolves only after that flush, as
 * under `synchronous = FULL`, which stays the connection's setting for every other statement:
 * the connection is held from the pragma to its reset. On PostgreSQL COMMIT returns once durable.
 */
import type { Knex } from 'knex';
import type { Database } from './connect.js';

interface SqliteConnection {
  pragma(source: string): unknown;
}

interface PoolClient<C> {
  acquireConnection(): Promise<C>;
  releaseConnection(conn: C): Promise<unknown>;
}

/**
 * Runs `body` on the SQLite connection, held from start to end. On a file (`walSync`), `body`
 * runs with `synchronous = NORMAL`, reset to `FULL` before the connection is released, and this
 * resolves only after the shared WAL flush that follows: whatever `body` committed is durable.
 * The pragma is compiled afresh each time, never a cached statement: SQLite sets `synchronous`
 * while compiling the statement, so running a cached one again would change nothing.
 */
export async function onSqliteConnection<T, C extends SqliteConnection>(db: Database, body: (conn: C) => Promise<T>): Promise<T> {
  const client = db.knex.client as PoolClient<C>;
  const conn = await client.acquireConnection();
  let result: T;
  try {
    if (!db.walSync) return await body(conn);
    conn.pragma('synchronous = NORMAL');
    try {
      result = await body(conn);
    } finally {
      conn.pragma('synchronous = FULL');
    }
  } finally {
    await client.releaseConnection(conn);
  }
  await db.walSync.sync();
  return result;
}

/** Runs `fn` in a transaction that holds the write lock from its first statement; resolves once the commit is durable. */
export async function writeTransaction<T>(db: Database, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (db.dialect !== 'sqlite') return db.knex.transaction(fn);
  const locked = async (trx: Knex.Transaction): Promise<T> => {
    // Matches no row, but a write statement takes the write lock, waiting up to busy_timeout.
    await trx.raw("UPDATE settings SET value = value WHERE key = ''");
    return fn(trx);
  };
  if (!db.walSync) return db.knex.transaction(locked);
  return onSqliteConnection(db, (conn) => db.knex.transaction(locked, { connection: conn }));
}

/**
 * Resolves once every commit this process made so far is durable. A reader that acts on a row
 * it sees (a resent instance answered as already stored) calls this first: the row may come
 * from a commit whose WAL flush is still running.
 */
export async function committedIsDurable(db: Database): Promise<void> {
  await db.walSync?.sync();
}
