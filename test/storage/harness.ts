/**
 * Runs a storage suite against both databases: embedded SQLite in a temp dir, and PostgreSQL
 * (LIMEN_TEST_DATABASE_URL, default postgres://127.0.0.1:5432/test) in a schema of its own
 * per test, dropped afterwards so parallel and later runs never collide. PostgreSQL
 * unreachable: the suite is skipped with one line, or fails under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import pg from 'pg';
import { openStorage, SQLITE_FILE, type Dialect, type OpenStorageOptions, type Storage } from '../../storage/index.js';

export const PG_BASE_URL = process.env.LIMEN_TEST_DATABASE_URL || 'postgres://127.0.0.1:5432/test';

export interface Harness {
  readonly dialect: Dialect;
  /** This test's data dir (fresh per test). */
  readonly dataDir: string;
  /** This test's database URL (undefined for SQLite). */
  readonly databaseUrl: string | undefined;
  /** Opens a storage on this test's data dir and database; closed after the test. */
  open(options?: Partial<OpenStorageOptions>): Promise<Storage>;
  /** Runs SQL on this test's database over a separate connection (to tamper, or to look). */
  sql(query: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** PostgreSQL only: a connection of its own to this test's schema (to hold locks and transactions open); end it. */
  connect(): Promise<pg.Client>;
  /** A fixed 32-byte master key used by `open` unless overridden. */
  readonly masterKey: Uint8Array;
}

function pgClientConfig(url: string): pg.ClientConfig {
  const u = new URL(url);
  if (!u.username) u.username = process.env.PGUSER || process.env.USER || userInfo().username;
  return { connectionString: u.toString(), connectionTimeoutMillis: 3000 };
}

async function pgReachable(): Promise<string | null> {
  const client = new pg.Client(pgClientConfig(PG_BASE_URL));
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

async function pgAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(pgClientConfig(PG_BASE_URL));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

function redacted(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

let announcedPg = false;

/** Declares `title` twice, once per database, giving `body` a harness for the current test. */
export function describeEachDatabase(title: string, body: (h: Harness) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`${title} [${dialect}]`, function () {
      let dataDir = '';
      let schema = '';
      let opened: Storage[] = [];
      const masterKey = new Uint8Array(32).fill(0x5a);

      before(async function () {
        if (dialect !== 'postgres') return;
        const problem = await pgReachable();
        if (problem === null) return;
        const line = `PostgreSQL at ${redacted(PG_BASE_URL)} unreachable (${problem})`;
        if (process.env.CI === 'true') throw new Error(line);
        if (!announcedPg) {
          announcedPg = true;
          process.stdout.write(`  skipped: ${line}\n`);
        }
        this.skip();
      });

      beforeEach(async () => {
        dataDir = mkdtempSync(join(tmpdir(), 'limen-storage-'));
        opened = [];
        if (dialect === 'postgres') {
          schema = `limen_t_${process.pid}_${randomBytes(4).toString('hex')}`;
          await pgAdmin((c) => c.query(`CREATE SCHEMA ${schema}`));
        }
      });

      afterEach(async () => {
        for (const s of opened) await s.close().catch(() => {});
        if (dialect === 'postgres' && schema) await pgAdmin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
        rmSync(dataDir, { recursive: true, force: true });
      });

      const h: Harness = {
        dialect,
        masterKey,
        get dataDir() {
          return dataDir;
        },
        get databaseUrl() {
          return dialect === 'postgres' ? withSearchPath(PG_BASE_URL, schema) : undefined;
        },
        async open(options = {}) {
          const s = await openStorage({ dataDir, databaseUrl: h.databaseUrl, masterKey, ...options });
          opened.push(s);
          return s;
        },
        async connect() {
          if (dialect !== 'postgres') throw new Error('connect() is for PostgreSQL');
          const client = new pg.Client(pgClientConfig(h.databaseUrl!));
          await client.connect();
          return client;
        },
        async sql(query, params = []) {
          const k =
            dialect === 'postgres'
              ? knex({ client: 'pg', connection: pgClientConfig(h.databaseUrl!).connectionString })
              : knex({ client: 'better-sqlite3', connection: { filename: join(dataDir, SQLITE_FILE) }, useNullAsDefault: true });
          try {
            const res = await k.raw(query, params as readonly knex.Knex.RawBinding[]);
            return (dialect === 'postgres' ? res.rows : Array.isArray(res) ? res : []) as Record<string, unknown>[];
          } finally {
            await k.destroy();
          }
        },
      };
      body(h);
    });
  }
}
