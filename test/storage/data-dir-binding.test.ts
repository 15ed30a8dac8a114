/**
 * A data dir opened with another database than its own (a changed database.url, a moved
 * configuration) is refused, before the orphan sweep could take its blobs for garbage; the
 * pairing of the two is written at their first open, and an upgrade or a crash in between does
 * not lock anyone out.
 */
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import { BLOB_DIR, openStorage, type Storage } from '../../storage/index.js';
import { STORE_ID_FILE } from '../../storage/data-dir-binding.js';
import { instanceInput, rejection } from './fixtures.js';

describe('storage: a data dir belongs to its database', () => {
  const masterKey = new Uint8Array(32).fill(0x3c);
  let dataDir: string;
  const open = (database?: string): Promise<Storage> => openStorage({ dataDir, masterKey, serve: true, ...(database && { databaseUrl: `sqlite:${join(dataDir, database)}` }) });
  const blobs = () => readdirSync(join(dataDir, BLOB_DIR), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'limen-binding-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses another database, a new one included, and changes nothing; its own opens and serves the study', async () => {
    const input = instanceInput();
    const own = await open();
    await own.storeInstance(input);
    await own.close();
    for (const other of ['other.sqlite', 'limen-copy.sqlite']) {
      const err = await rejection(open(other));
      expect(err).to.include({ code: 'data-dir-mismatch' });
      expect(err.message).to.include(dataDir).and.include('the blobs were left as they are');
    }
    expect(blobs()).to.equal(1);
    const again = await open();
    try {
      expect((await again.sweepOrphanBlobs({ olderThanSeconds: 0 })).orphanBlobs).to.equal(0);
      expect(Buffer.from((await again.getInstanceBlob(input.sopInstanceUID))!.bytes).equals(Buffer.from(input.bytes))).to.equal(true);
    } finally {
      await again.close();
    }
  });

  it('pairs a data dir and a database that predate the pairing, or whose first pairing a crash cut short, when the database knows the blobs', async () => {
    const s = await open();
    await s.storeInstance(instanceInput());
    await s.close();
    const sqlite = knex({ client: 'better-sqlite3', connection: { filename: join(dataDir, 'limen.sqlite') }, useNullAsDefault: true });
    try {
      // Neither has the id (as before an upgrade), then only the database (a crash before the file was written).
      rmSync(join(dataDir, STORE_ID_FILE));
      await sqlite('settings').where({ key: 'store_id' }).delete();
      await (await open()).close();
      rmSync(join(dataDir, STORE_ID_FILE));
      await (await open()).close();
    } finally {
      await sqlite.destroy();
    }
    expect(blobs()).to.equal(1);
  });

  it('serves a database file named outside the data dir from one data dir at a time', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'limen-binding-db-'));
    const second = mkdtempSync(join(tmpdir(), 'limen-binding-'));
    const databaseUrl = `sqlite:${join(elsewhere, 'limen.sqlite')}`;
    try {
      const first = await openStorage({ dataDir, databaseUrl, masterKey, serve: true });
      try {
        expect(await rejection(openStorage({ dataDir: second, databaseUrl, masterKey, serve: true }))).to.include({ code: 'data-dir-locked' });
      } finally {
        await first.close();
      }
    } finally {
      for (const d of [elsewhere, second]) rmSync(d, { recursive: true, force: true });
    }
  });

  it('lets a new database have a data dir that holds no blob', async () => {
    await (await open()).close();
    await (await open('fresh.sqlite')).close();
  });
});
