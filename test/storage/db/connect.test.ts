/**
 * What the database connection says when PostgreSQL is not there: knex's own messages as JSON
 * log lines (never its multi-line text with a stack), and a failure that names the database
 * without its credentials.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, DATABASE_LOG_ID, DatabaseConnectError, displayDatabaseUrl, type DatabaseLogLevel } from '../../../storage/db/connect.js';
import { freePort } from '../../support/ports.js';
import { runLimen } from '../../support/limen-cli.js';

/** Runs `fn` with process.stderr.write captured. */
async function capturingStderr<T>(fn: () => Promise<T>): Promise<{ result: T; written: string }> {
  const original = process.stderr.write;
  let written = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await fn(), written };
  } finally {
    process.stderr.write = original;
  }
}

describe('storage/db connect: PostgreSQL unreachable', function () {
  this.timeout(60_000);
  let deadPort: number;
  let dir: string;
  before(async () => {
    // Handed out and closed again: nothing listens there.
    deadPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'limen-connect-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('knex logs a connection failure as one JSON line (level, id storage.database, msg) without a stack, not as plain text', async () => {
    const db = connectDatabase({ dataDir: dir, databaseUrl: `postgres://limen:s3cret-pw@127.0.0.1:${deadPort}/test` });
    const { result: failure, written } = await capturingStderr(async () => {
      const err = await db.knex.raw('SELECT 1').then(() => undefined, (e: unknown) => e);
      await db.knex.destroy();
      return err;
    });
    expect(failure).to.be.instanceOf(Error);
    const lines = written.split('\n').filter((l) => l !== '');
    expect(lines, written).to.not.be.empty;
    for (const line of lines) {
      const record = JSON.parse(line) as Record<string, unknown>;
      expect(record).to.include({ level: 'warn', id: DATABASE_LOG_ID });
      expect(record.msg).to.be.a('string').and.match(/^Acquire connection error: .*cannot be reached: ECONNREFUSED$/);
      expect(record.msg).to.not.match(/\n|\s{2}at |TCPConnectWrap/);
    }
    expect(written).to.not.include('s3cret-pw');
  });

  it('fails with an error that says it is the database, by its URL without the password', async () => {
    const lines: Array<[DatabaseLogLevel, string]> = [];
    const db = connectDatabase({ dataDir: dir, databaseUrl: `postgres://limen:s3cret-pw@127.0.0.1:${deadPort}/test?options=-c%20search_path%3Dx`, log: (level, msg) => lines.push([level, msg]) });
    const err = await db.knex.raw('SELECT 1').then(() => undefined, (e: unknown) => e);
    await db.knex.destroy();
    expect(err).to.be.instanceOf(DatabaseConnectError);
    expect((err as Error).message).to.equal(`the database at postgres://127.0.0.1:${deadPort}/test cannot be reached: ECONNREFUSED`);
    expect((err as DatabaseConnectError).code).to.equal('ECONNREFUSED');
    // The log callback, when given, gets knex's lines instead of stderr.
    expect(lines.map(([level]) => level)).to.include('warn');
    expect(JSON.stringify(lines)).to.not.include('s3cret-pw');
  });

  it('shows a URL without user, password or options', () => {
    expect(displayDatabaseUrl('postgres://u:p@db.example:6432/limen?options=-c%20search_path%3Dx')).to.equal('postgres://db.example:6432/limen');
    expect(displayDatabaseUrl('not a url')).to.equal('the configured URL');
  });

  it('limen start: the start failure names the database, nothing goes to stdout and every line on stderr is JSON', async () => {
    const dataDir = join(dir, 'var');
    const r = await runLimen(['start'], { env: { LIMEN_DATA_DIR: dataDir, LIMEN_DATABASE_URL: `postgres://limen:s3cret-pw@127.0.0.1:${deadPort}/test`, LIMEN_HTTP_PORT: String(await freePort()), LIMEN_DIMSE_PORT: String(await freePort()) } });
    expect(r.code, r.stderr).to.equal(1);
    // knex's console.log went to stdout, and in a container both streams are the one log.
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.include(`"id":"storage.database"`);
    const records = r.stderr
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        expect(() => JSON.parse(l), `not a JSON line: ${l}`).to.not.throw();
        return JSON.parse(l) as Record<string, unknown>;
      });
    const failed = records.find((rec) => rec.id === 'gateway.start.failed');
    expect(failed?.msg).to.equal(`Limen could not start: the database at postgres://127.0.0.1:${deadPort}/test cannot be reached: ECONNREFUSED`);
    expect(r.stderr).to.not.include('s3cret-pw');
  });
});
