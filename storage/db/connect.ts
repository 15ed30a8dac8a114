/**
 * Opens the one database: embedded SQLite (better-sqlite3, WAL) in the data dir by default or
 * at a `sqlite:<path>` URL, or PostgreSQL for several gateway processes when a `postgres://`
 * URL is given. A PostgreSQL URL may carry `?options=-c search_path=<schema>` to keep Limen's
 * tables in their own schema.
 */
import knex, { type Knex } from 'knex';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { StorageError } from '../errors.js';
import type { SyncGroup } from '../sync-group.js';
import { cacheStatements } from './statement-cache.js';
import { walSyncGroup } from './wal-sync.js';

/** File name of the embedded database inside the data dir. */
export const SQLITE_FILE = 'limen.sqlite';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  knex: Knex;
  dialect: Dialect;
  /** The SQLite file, when embedded. */
  sqliteFile?: string;
  /** Flushes the SQLite WAL (group commit); see `durableTransaction`. Absent for PostgreSQL and in-memory SQLite. */
  walSync?: SyncGroup;
}

/** How long SQLite waits for a lock held by another connection before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

/** Connects without touching the schema (migrations run in `openStorage`). */
export function connectDatabase(options: { dataDir: string; databaseUrl?: string }): Database {
  const url = options.databaseUrl?.trim();
  if (!url) return sqlite(join(options.dataDir, SQLITE_FILE));
  if (/^postgres(ql)?:\/\//i.test(url)) {
    return { dialect: 'postgres', knex: knex({ client: 'pg', connection: pgConnection(url), pool: { min: 0, max: 10 } }) };
  }
  if (/^sqlite:/i.test(url)) {
    let rest = url.slice('sqlite:'.length);
    if (rest.startsWith('///')) rest = rest.slice(2);
    if (rest === '' || rest.startsWith('//')) throw new StorageError('invalid-input', 'a sqlite URL is sqlite:<path> or sqlite:///<absolute path>', { path: 'databaseUrl' });
    return sqlite(rest === ':memory:' ? rest : resolve(rest));
  }
  throw new StorageError('invalid-input', 'the database URL must start with postgres://, postgresql:// or sqlite: (leave it empty for the SQLite file in the data dir)', { path: 'databaseUrl' });
}

function sqlite(file: string): Database {
  return {
    dialect: 'sqlite',
    sqliteFile: file === ':memory:' ? undefined : file,
    walSync: file === ':memory:' ? undefined : walSyncGroup(file),
    knex: knex({
      client: 'better-sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
      // One connection: transactions serialize in-process, which the claim and audit paths rely on.
      pool: { min: 1, max: 1, afterCreate: configureSqlite },
    }),
  };
}

// Like libpq (psql): a URL without a user name connects as PGUSER, else the OS user.
function pgConnection(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StorageError('invalid-input', 'the database URL is not a valid URL', { path: 'databaseUrl' });
  }
  if (parsed.username !== '' || parsed.hostname === '') return url;
  parsed.username = encodeURIComponent(process.env.PGUSER || process.env.USER || userInfo().username);
  return parsed.toString();
}

interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): unknown;
}

function configureSqlite(conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void): void {
  try {
    conn.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the sender is told its instance is stored.
    conn.pragma('synchronous = FULL');
    conn.pragma('foreign_keys = ON');
    // Overwrite freed content so a destroyed key or deleted row does not linger in free pages.
    conn.pragma('secure_delete = ON');
    conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    cacheStatements(conn);
    done(null, conn);
  } catch (err) {
    done(err as Error, conn);
  }
}
