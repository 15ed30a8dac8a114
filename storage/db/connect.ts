/**
 * Opens the one database: embedded SQLite (better-sqlite3, WAL) in the data dir by default or
 * at a `sqlite:<path>` URL, or PostgreSQL for several gateway processes when a `postgres://`
 * URL is given. A PostgreSQL URL may carry `?options=-c search_path=<schema>` to keep Limen's
 * tables in their own schema. knex's own messages become JSON log lines, and a connection that
 * cannot be made fails naming the database.
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
  /**
   * Seals each audit event (an HMAC of its hash), derived from the master key once storage has
   * checked it: an event written into the table by anyone without the key is told apart.
   */
  auditKey?: Uint8Array;
}

/** How long SQLite waits for a lock held by another connection before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

export type DatabaseLogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Where knex's own messages go: one line of text each, without a stack. */
export type DatabaseLog = (level: DatabaseLogLevel, msg: string) => void;

/** The stable log ID of what knex itself says (pool and connection trouble, deprecations). */
export const DATABASE_LOG_ID = 'storage.database';

export interface ConnectOptions {
  dataDir: string;
  databaseUrl?: string;
  /** Receives knex's messages; by default they are JSON lines on stderr, as the gateway's log writes them. */
  log?: DatabaseLog;
}

/** Connects without touching the schema (migrations run in `openStorage`). */
export function connectDatabase(options: ConnectOptions): Database {
  const url = options.databaseUrl?.trim();
  const log = knexLog(options.log ?? stderrLog);
  if (!url) return sqlite(join(options.dataDir, SQLITE_FILE), log);
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const db = knex({ client: 'pg', connection: pgConnection(url), pool: { min: 0, max: 10 }, log });
    explainConnectFailures(db, url);
    return { dialect: 'postgres', knex: db };
  }
  if (/^sqlite:/i.test(url)) {
    let rest = url.slice('sqlite:'.length);
    if (rest.startsWith('///')) rest = rest.slice(2);
    if (rest === '' || rest.startsWith('//')) throw new StorageError('invalid-input', 'a sqlite URL is sqlite:<path> or sqlite:///<absolute path>', { path: 'databaseUrl' });
    return sqlite(rest === ':memory:' ? rest : resolve(rest), log);
  }
  throw new StorageError('invalid-input', 'the database URL must start with postgres://, postgresql:// or sqlite: (leave it empty for the SQLite file in the data dir)', { path: 'databaseUrl' });
}

/**
 * A connection to the database could not be made. The message names the database by its URL
 * without credentials or query (`the database at postgres://db:5432/limen cannot be reached:
 * ECONNREFUSED`); `code` is the driver's (`ECONNREFUSED`, or PostgreSQL's SQLSTATE such as
 * `28P01`), and the driver's error is the `cause`.
 */
export class DatabaseConnectError extends Error {
  override readonly name = 'DatabaseConnectError';
  readonly code?: string;
  /** The database's URL, without user, password or query. */
  readonly url: string;

  constructor(url: string, cause: unknown) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    const codeText = typeof code === 'string' && code !== '' ? code : undefined;
    const reason = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
    // A network failure is best known by its errno name; a refusal by PostgreSQL (a SQLSTATE:
    // wrong password, no such database) by its words.
    const message =
      codeText !== undefined && /^E[A-Z_]+$/.test(codeText)
        ? `the database at ${url} cannot be reached: ${codeText}`
        : codeText !== undefined && /^[0-9A-Z]{5}$/.test(codeText)
          ? `the database at ${url} refused the connection: ${reason}`
          : `the database at ${url} cannot be reached: ${reason}`;
    super(message, { cause });
    this.url = url;
    if (codeText !== undefined) this.code = codeText;
  }
}

/** The URL as it can be shown: scheme, host, port and database, never user, password or options. */
export function displayDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'the configured URL';
  }
}

/**
 * The driver says only "connect ECONNREFUSED 127.0.0.1:5432", which read at start-up does not
 * say it is the database that is missing. Wrapped where the pool makes a connection, so the
 * start, a migration and any later query all fail with the same explanation.
 */
function explainConnectFailures(db: Knex, url: string): void {
  const client = db.client as { acquireRawConnection(): Promise<unknown> };
  const acquire = client.acquireRawConnection.bind(client);
  const shown = displayDatabaseUrl(url);
  client.acquireRawConnection = () =>
    acquire().catch((err: unknown) => {
      throw new DatabaseConnectError(shown, err);
    });
}

/**
 * knex prints its own messages with console.log, several lines each with a stack, into what is
 * otherwise a JSON log; PostgreSQL down, that is a multi-line error every few hundred ms.
 */
function knexLog(log: DatabaseLog): Knex.Config['log'] {
  // Only the first line: the rest is a stack, which says nothing an operator can act on.
  const text = (message: unknown) => (typeof message === 'string' ? message.split('\n')[0] : undefined);
  return {
    warn: (m: unknown) => log('warn', text(m) ?? 'knex warning (not a text message)'),
    error: (m: unknown) => log('error', text(m) ?? 'knex error (not a text message)'),
    deprecate: (method: string, alternative: string) => log('warn', `knex: ${method} is deprecated, use ${alternative}`),
    // knex debugs a query only when asked to, as an object with its bindings: that is never written.
    debug: (m: unknown) => log('debug', text(m) ?? 'knex debug output (a query, not shown: its bindings may carry values)'),
  };
}

/** Storage has no logger of its own: a line shaped as the gateway's JSON log writes them, on stderr. */
const stderrLog: DatabaseLog = (level, msg) => {
  // debug is the gateway's least level, off unless asked for; storage cannot know whether it was.
  if (level === 'debug') return;
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, id: DATABASE_LOG_ID, msg })}\n`);
};

function sqlite(file: string, log: Knex.Config['log']): Database {
  const db = knex({
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    log,
    // One connection: transactions serialize in-process, which the claim and audit paths rely on.
    pool: { min: 1, max: 1, afterCreate: configureSqlite },
  });
  nameSqliteFile(db, file);
  return {
    dialect: 'sqlite',
    sqliteFile: file === ':memory:' ? undefined : file,
    walSync: file === ':memory:' ? undefined : walSyncGroup(file),
    knex: db,
  };
}

/**
 * better-sqlite3 names no file ("Cannot open database because the directory does not exist"):
 * a file that cannot be opened fails naming it, wherever the pool opens it.
 */
function nameSqliteFile(db: Knex, file: string): void {
  const client = db.client as { acquireRawConnection(): Promise<unknown> };
  const acquire = client.acquireRawConnection.bind(client);
  client.acquireRawConnection = () =>
    acquire().catch((err: unknown) => {
      throw new Error(`the SQLite database ${file} cannot be opened: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
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
