import { expect } from 'chai';
import { eventHash, GENESIS_HASH } from '../../storage/audit.js';
import { connectDatabase, MIGRATIONS, MIGRATIONS_TABLE, migrationSource } from '../../storage/db/index.js';
import { describeEachDatabase } from './harness.js';
import { instanceInput, rejection } from './fixtures.js';

describeEachDatabase('storage: migrating a database that holds data', (h) => {
  const migrate = async (step: (knex: ReturnType<typeof connectDatabase>['knex']) => Promise<unknown>): Promise<void> => {
    const db = connectDatabase({ dataDir: h.dataDir, databaseUrl: h.databaseUrl });
    try {
      await step(db.knex);
    } finally {
      await db.knex.destroy();
    }
  };
  const before0004 = migrationSource(MIGRATIONS.filter((m) => m.name < '0004'));

  it('0004 (lean store indexes) keeps the audit trail whole, its ids going on and its rows append-only', async () => {
    await migrate(async (knex) => {
      await knex.migrate.latest({ migrationSource: before0004, tableName: MIGRATIONS_TABLE });
      // As the code of that schema wrote them: hash-chained, no seal column yet.
      let prevHash = GENESIS_HASH;
      for (let i = 0; i < 3; i++) {
        const fields = { seq: i + 1, at: Date.UTC(2026, 0, 1, 0, 0, i), type: 'test.before', actor: null, studyInstanceUID: null, detail: { i }, prevHash };
        const hash = eventHash(fields);
        await knex('audit_events').insert({ seq: fields.seq, at: fields.at, type: fields.type, detail: JSON.stringify(fields.detail), prev_hash: prevHash, hash });
        prevHash = hash;
      }
    });

    const s = await h.open();
    expect(await s.audit.verify()).to.deep.include({ ok: true, count: 3, unsealed: 3 });
    const next = await s.audit.append({ type: 'test.after' });
    expect([next.id, next.seq]).to.deep.equal([4, 4]);
    const stored = await s.storeInstance(instanceInput());
    expect(stored.duplicate).to.equal(false);
    expect(await s.audit.verify()).to.deep.include({ ok: true, count: 4, unsealed: 3 });
    expect((await rejection(h.sql("UPDATE audit_events SET type = 'y'"))).message).to.match(/append-only/);
    expect((await rejection(h.sql('DELETE FROM audit_events'))).message).to.match(/append-only/);
    await s.close();

    // Down (each step after it, then 0004) and up again, with the data in place.
    const after0004 = MIGRATIONS.filter((m) => m.name >= '0004').length;
    for (let i = 0; i < after0004; i++) await migrate((knex) => knex.migrate.down({ migrationSource: migrationSource(), tableName: MIGRATIONS_TABLE }));
    expect((await h.sql('SELECT name FROM limen_migrations')).map((r) => r.name)).to.not.include('0004-lean-store-indexes');
    const again = await h.open();
    expect(await again.audit.verify()).to.deep.include({ ok: true, count: 4 });
    expect((await again.listInstances(stored.studyInstanceUID)).map((i) => i.sopInstanceUID)).to.deep.equal([stored.sopInstanceUID]);
    expect((await again.audit.append({ type: 'test.again' })).id).to.equal(5);
  });
});
