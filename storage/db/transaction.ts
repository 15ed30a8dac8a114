/**
 * Write transactions. SQLite starts a plain BEGIN as a reader and fails at once (SQLITE_BUSY)
 * if it later needs to write after another connection wrote; taking the write lock with the
 * first statement lets the busy timeout wait instead. That matters when a second process
 * (`limen token create`, a CLI command) shares the file with the server.
 */
import type { Knex } from 'knex';
import type { Database } from './connect.js';

/** Runs `fn` in a transaction that holds the database's write lock from its first statement (SQLite). */
export async function writeTransaction<T>(db: Database, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.knex.transaction(async (trx) => {
    // Matches no row, but a write statement takes the write lock, waiting up to busy_timeout.
    if (db.dialect === 'sqlite') await trx.raw("UPDATE settings SET value = value WHERE key = ''");
    return fn(trx);
  });
}
