/**
 * Group commit on SQLite: write transactions commit without flushing on the event loop, then
 * share an off-thread WAL flush. What must hold: a transaction resolves only after a flush that
 * began after its COMMIT, every statement outside that commit still runs under
 * `synchronous = FULL`, and concurrent commits share flushes.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, migrateToLatest, type Database } from '../../storage/db/index.js';
import { writeTransaction } from '../../storage/db/transaction.js';
import { flushWal } from '../../storage/db/wal-sync.js';
import { SyncGroup } from '../../storage/sync-group.js';

interface Probe {
  db: Database;
  /** COMMITs run so far. */
  commits: number;
  flushes: number;
  /** Every commit up to this count is covered by a completed flush. */
  durableUpTo: number;
  /** The commit count each transaction ended with, by the setting key it inserted. */
  commitOf: Map<string, number>;
}

interface RawStatement {
  reader: boolean;
  run(bindings: unknown[]): unknown;
}

interface RawConnection {
  prepare(sql: string): RawStatement;
}

describe('storage: durable group commit (SQLite)', () => {
  let dir: string;
  let probe: Probe;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'limen-commit-'));
    const db = connectDatabase({ dataDir: dir });
    await migrateToLatest(db.knex);
    const p: Probe = { db, commits: 0, flushes: 0, durableUpTo: 0, commitOf: new Map() };
    // Count COMMITs on the one SQLite connection, right after each has run.
    const client = db.knex.client as { acquireConnection(): Promise<RawConnection>; releaseConnection(c: RawConnection): Promise<void> };
    const conn = await client.acquireConnection();
    const prepare = conn.prepare.bind(conn);
    let lastKey = '';
    conn.prepare = (sql: string) => {
      const statement = prepare(sql);
      if (/^insert into .settings./i.test(sql)) {
        return { ...statement, reader: statement.reader, run: (bindings: unknown[]) => ((lastKey = String(bindings[0])), statement.run(bindings)) };
      }
      if (!/^COMMIT/i.test(sql)) return statement;
      return {
        reader: false,
        run: (bindings: unknown[]) => {
          const r = statement.run(bindings);
          p.commits += 1;
          p.commitOf.set(lastKey, p.commits);
          return r;
        },
      };
    };
    await client.releaseConnection(conn);
    // The real flush, slowed a little so that commits pile up behind it as on a slow disk.
    db.walSync = new SyncGroup(async () => {
      const covered = p.commits;
      p.flushes += 1;
      await new Promise((r) => setTimeout(r, 5));
      await flushWal(db.sqliteFile!);
      p.durableUpTo = Math.max(p.durableUpTo, covered);
    });
    probe = p;
  });

  afterEach(async () => {
    await probe.db.knex.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const insertSetting = (key: string) =>
    writeTransaction(probe.db, async (trx) => {
      await trx('settings').insert({ key, value: 'v' });
    });

  it('resolves only after a WAL flush that began after its own COMMIT', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        await insertSetting(`k${i}`);
        // At this moment the transaction's COMMIT must be covered by a completed flush.
        return { durable: probe.durableUpTo, commit: probe.commitOf.get(`k${i}`) };
      }),
    );
    for (const r of results) {
      expect(r.commit, 'the COMMIT was seen').to.be.a('number');
      expect(r.durable).to.be.at.least(r.commit!);
    }
  });

  it('concurrent commits share flushes', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => insertSetting(`c${i}`)));
    expect(probe.commits).to.equal(40);
    expect(probe.flushes).to.be.within(1, 20);
  });

  it('only the commit runs under synchronous = NORMAL; the connection is back at FULL afterwards', async () => {
    const level = async (q: Database['knex'] | Parameters<Parameters<typeof writeTransaction>[1]>[0]) => {
      const rows = (await q.raw('PRAGMA synchronous')) as Array<{ synchronous: number }>;
      return rows[0].synchronous;
    };
    expect(await level(probe.db.knex)).to.equal(2);
    const inside = await writeTransaction(probe.db, (trx) => level(trx));
    expect(inside).to.equal(1);
    expect(await level(probe.db.knex)).to.equal(2);
    // Also after a transaction that fails.
    const failed = await writeTransaction(probe.db, async (trx) => {
      await trx('settings').insert({ key: 'x', value: 'v' });
      throw new Error('boom');
    }).then(
      () => null,
      (e: Error) => e,
    );
    expect(failed?.message).to.equal('boom');
    expect(await level(probe.db.knex)).to.equal(2);
    expect(await probe.db.knex('settings').where({ key: 'x' }).first()).to.equal(undefined);
  });

  it('a failed WAL flush fails the transaction that waits for it, and every later one', async () => {
    let fail = false;
    probe.db.walSync = new SyncGroup(
      async () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
        await flushWal(probe.db.sqliteFile!);
      },
      { sticky: true },
    );
    await insertSetting('before');
    fail = true;
    const first = await insertSetting('during').then(() => null, (e: Error) => e);
    expect((first as NodeJS.ErrnoException | null)?.code).to.equal('EIO');
    fail = false;
    const later = await insertSetting('after').then(() => null, (e: Error) => e);
    expect((later as NodeJS.ErrnoException | null)?.code, 'durability is never reported again').to.equal('EIO');
  });
});
