import { expect } from 'chai';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, SQLITE_FILE } from '../../storage/index.js';
import { MIGRATIONS } from '../../storage/db/index.js';
import { describeEachDatabase } from './harness.js';
import { instanceInput, rejection } from './fixtures.js';

describeEachDatabase('storage: database', (h) => {
  it('migrates a fresh database exactly once, also with several pools starting at once (PostgreSQL)', async () => {
    // Several pools at once on PostgreSQL; one SQLite file has one writer per process.
    const opened = h.dialect === 'postgres' ? await Promise.all([h.open(), h.open(), h.open()]) : [await h.open(), await h.open()];
    const rows = await h.sql('SELECT name FROM limen_migrations');
    expect(rows.map((r) => r.name)).to.deep.equal(MIGRATIONS.map((m) => m.name));
    for (const s of opened) await s.ping();
  });

  it('uses the SQLite file in the data dir in WAL mode, or the PostgreSQL URL', async () => {
    const s = await h.open();
    expect(s.dialect).to.equal(h.dialect);
    await s.storeInstance(instanceInput());
    if (h.dialect === 'sqlite') {
      expect(existsSync(join(h.dataDir, SQLITE_FILE))).to.equal(true);
      expect(existsSync(join(h.dataDir, `${SQLITE_FILE}-wal`))).to.equal(true);
      const [mode] = await h.sql('PRAGMA journal_mode');
      expect(mode.journal_mode).to.equal('wal');
    } else {
      expect(existsSync(join(h.dataDir, SQLITE_FILE))).to.equal(false);
      const [row] = await h.sql('SELECT count(*) AS n FROM instances');
      expect(Number(row.n)).to.equal(1);
    }
  });
});

describe('storage: database URLs', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'limen-url-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the SQLite database and its WAL files readable by their owner only, in a data dir that already existed open to all', async () => {
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755); // whatever the umask
    const s = await openStorage({ dataDir, masterKey: new Uint8Array(32), serve: true });
    try {
      await s.storeInstance(instanceInput());
      for (const name of [SQLITE_FILE, `${SQLITE_FILE}-wal`, `${SQLITE_FILE}-shm`]) {
        expect(statSync(join(dataDir, name)).mode & 0o777, name).to.equal(0o600);
      }
    } finally {
      await s.close();
    }
  });

  it('accepts sqlite:<path> as the configuration writes it', async () => {
    const file = join(dir, 'elsewhere.sqlite');
    const s = await openStorage({ dataDir: join(dir, 'data'), databaseUrl: `sqlite:${file}`, masterKey: new Uint8Array(32) });
    await s.close();
    expect(existsSync(file)).to.equal(true);
    expect(existsSync(join(dir, 'data', SQLITE_FILE))).to.equal(false);
  });

  it('a sqlite:<path> in a directory that does not exist yet: the serving process makes it, as a one-shot command does', async () => {
    for (const serve of [true, false]) {
      const file = join(dir, `not-yet-${serve}`, 'deeper', 'limen.sqlite');
      const s = await openStorage({ dataDir: join(dir, 'data'), databaseUrl: `sqlite:${file}`, masterKey: new Uint8Array(32), serve });
      await s.close();
      expect(existsSync(file), `serve: ${serve}`).to.equal(true);
    }
  });

  it('a SQLite file that cannot be opened is named in the error', async () => {
    // A directory where the file should be: SQLite cannot open it.
    const file = join(dir, 'taken.sqlite');
    mkdirSync(file);
    const err = await rejection(openStorage({ dataDir: join(dir, 'data'), databaseUrl: `sqlite:${file}`, masterKey: new Uint8Array(32), databaseLog: () => {} }));
    expect(err.message).to.contain(file);
  });

  it('refuses another scheme without repeating the URL', async () => {
    const err = await rejection(openStorage({ dataDir: dir, databaseUrl: 'mysql://user:s3cret@db/limen', masterKey: new Uint8Array(32) }));
    expect(err.code).to.equal('invalid-input');
    expect(err.message).not.to.contain('s3cret');
  });
});
