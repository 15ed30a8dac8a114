import { expect } from 'chai';
import { GENESIS_HASH } from '../../storage/index.js';
import { randomBytes } from 'node:crypto';
import { appendAuditEvent, auditSeal, eventHash } from '../../storage/audit.js';
import { connectDatabase } from '../../storage/db/index.js';
import { sqlIn } from '../../storage/db/sql.js';
import { describeEachDatabase } from './harness.js';
import { manualClock, rejection, uid } from './fixtures.js';

async function dropAppendOnlyGuard(h: { dialect: string; sql(q: string): Promise<unknown> }): Promise<void> {
  // What someone with direct database access could do; the chain must still tell.
  if (h.dialect === 'postgres') await h.sql('DROP TRIGGER audit_events_append_only ON audit_events');
  else {
    await h.sql('DROP TRIGGER audit_events_no_update');
    await h.sql('DROP TRIGGER audit_events_no_delete');
  }
}

describeEachDatabase('storage: audit trail', (h) => {
  it('chains each event to the one before and verifies', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    expect(await s.audit.verify()).to.deep.equal({ ok: true, count: 0, headHash: GENESIS_HASH, unsealed: 0 });
    const study = uid();
    const first = await s.audit.append({ type: 'association.accepted', actor: 'MODALITY1', detail: { calledAE: 'LIMEN' } });
    clock.advance(1);
    const second = await s.audit.append({ type: 'instance.stored', actor: 'MODALITY1', studyInstanceUID: study, detail: { sopInstanceUID: uid(), bytes: 1234 } });
    expect(first.prevHash).to.equal(GENESIS_HASH);
    expect(second.prevHash).to.equal(first.hash);
    expect(second.seq).to.equal(2);
    expect(await s.audit.verify()).to.deep.equal({ ok: true, count: 2, headHash: second.hash, unsealed: 0 });
    expect(second.seal).to.match(/^[0-9a-f]{64}$/);
    expect(await s.audit.head()).to.deep.equal({ seq: 2, hash: second.hash });
    const listed = await s.audit.list({ studyInstanceUID: study });
    expect(listed).to.have.length(1);
    expect(listed[0]).to.deep.equal(second);
  });

  it('an event is never dated before the one ahead of it in the chain (its time is read before the lock)', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const first = await s.audit.append({ type: 'x' });
    clock.advance(-5); // a later append whose time was read earlier
    const second = await s.audit.append({ type: 'y' });
    expect(second.at.getTime()).to.equal(first.at.getTime());
    expect(await s.audit.verify()).to.deep.include({ ok: true, count: 2 });
  });

  it('concurrent appends never fork the chain', async () => {
    const storages = h.dialect === 'postgres' ? [await h.open(), await h.open()] : [await h.open()];
    await Promise.all(Array.from({ length: 40 }, (_, i) => storages[i % storages.length].audit.append({ type: 'instance.stored', detail: { i } })));
    const result = await storages[0].audit.verify();
    expect(result).to.deep.include({ ok: true, count: 40 });
    const events = await storages[0].audit.list({ limit: 100 });
    expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('refuses updates, deletes, emptying the table and rows outside the chain at the database', async () => {
    const s = await h.open();
    const event = await s.audit.append({ type: 'x' });
    expect((await rejection(h.sql("UPDATE audit_events SET type = 'y'"))).message).to.match(/append-only/);
    expect((await rejection(h.sql('DELETE FROM audit_events'))).message).to.match(/append-only/);
    if (h.dialect === 'postgres') expect((await rejection(h.sql('TRUNCATE audit_events'))).message).to.match(/append-only/);
    const outside = `INSERT INTO audit_events (seq, at, type, detail, prev_hash, hash) VALUES (0, 0, 'review.approved', '{}', '${GENESIS_HASH}', '${event.hash}')`;
    expect((await rejection(h.sql(outside))).message).to.match(/seq/);
    expect(await s.audit.verify()).to.deep.include({ ok: true, count: 1 });
  });

  it('detects a row written outside the chain (seq below 1), and an emptied chain beside audited rows', async () => {
    const s = await h.open();
    for (let i = 0; i < 3; i++) await s.audit.append({ type: 'instance.stored', detail: { i } });
    // Past the database's refusals, as someone with direct access could write it.
    if (h.dialect === 'postgres') await h.sql('ALTER TABLE audit_events DROP CONSTRAINT audit_events_seq_from_one');
    else await h.sql('DROP TRIGGER audit_events_seq_from_one');
    const forged = eventHash({ seq: 0, at: 0, type: 'review.approved', actor: 'dr-mallory', studyInstanceUID: null, detail: {}, prevHash: GENESIS_HASH });
    await h.sql(`INSERT INTO audit_events (seq, at, type, actor, detail, prev_hash, hash) VALUES (0, 0, 'review.approved', 'dr-mallory', '{}', '${GENESIS_HASH}', '${forged}')`);
    const result = await s.audit.verify();
    expect(result).to.deep.include({ ok: false, brokenAtSeq: 0 });
    expect((result as { reason: string }).reason).to.equal('event seq 0 (review.approved) lies outside the chain, which runs from seq 1: it was inserted');

    // Every event gone, the token whose creation was audited still there.
    await s.tokens.create({ role: 'admin', issuedBy: 'test', ttlSeconds: 60 });
    await dropAppendOnlyGuard(h);
    await h.sql('DELETE FROM audit_events');
    const emptied = await s.audit.verify();
    expect(emptied).to.deep.include({ ok: false, brokenAtSeq: 1 });
    expect((emptied as { reason: string }).reason).to.match(/^the chain is empty, yet the database holds studies or API tokens/);
  });

  it('detects an edited event', async () => {
    const s = await h.open();
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await s.audit.append({ type: 'instance.stored', detail: { i } }));
    await dropAppendOnlyGuard(h);
    await h.sql(`UPDATE audit_events SET detail = '{"i":99}' WHERE id = ${events[2].id}`);
    const result = await s.audit.verify();
    expect(result).to.deep.include({ ok: false, brokenAtSeq: events[2].seq });
    expect((result as { reason: string }).reason).to.match(/altered/);
  });

  it('detects an edited event whose own hash was recomputed, by its seal (and at the next event, by the link)', async () => {
    const s = await h.open();
    const events = [];
    for (let i = 0; i < 4; i++) events.push(await s.audit.append({ type: 'instance.stored', detail: { i } }));
    await dropAppendOnlyGuard(h);
    const forged = { ...events[1], type: 'forged' };
    const hash = eventHash({ ...forged, at: forged.at.getTime() });
    await h.sql(`UPDATE audit_events SET type = 'forged', hash = '${hash}' WHERE id = ${events[1].id}`);
    const result = await s.audit.verify();
    expect(result).to.deep.include({ ok: false, brokenAtSeq: events[1].seq });
    expect((result as { reason: string }).reason).to.match(/has a seal that Limen's audit key did not make/);
  });

  it('tells an event written into the table without the audit key, whose hash and link check: no seal, or a seal of another key', async () => {
    const s = await h.open();
    const events = [];
    for (let i = 0; i < 3; i++) events.push(await s.audit.append({ type: 'instance.stored', detail: { i } }));
    const head = events[2];
    // Someone who can INSERT appends an event at the head, hash and link computed as Limen would.
    const forge = async (seal: string | null) => {
      const fields = { seq: head.seq + 1, at: head.at.getTime() + 1, type: 'study.accessed', actor: 'innocent-user', studyInstanceUID: null, detail: {}, prevHash: head.hash };
      const hash = eventHash(fields);
      await h.sql(`INSERT INTO audit_events (seq, at, type, actor, detail, prev_hash, hash, seal) VALUES (${fields.seq}, ${fields.at}, 'study.accessed', 'innocent-user', '{}', '${head.hash}', '${hash}', ${seal === null ? 'NULL' : `'${seal}'`})`);
    };
    await forge(null);
    const unsealed = await s.audit.verify();
    expect(unsealed).to.deep.include({ ok: false, brokenAtSeq: 4 });
    expect((unsealed as { reason: string }).reason).to.equal("event seq 4 has no seal, though events before it are sealed: it was written without Limen's audit key");
    await dropAppendOnlyGuard(h);
    await h.sql('DELETE FROM audit_events WHERE seq = 4');
    await forge(auditSeal(randomBytes(32), 'x'.repeat(64)));
    expect(await s.audit.verify()).to.deep.include({ ok: false, brokenAtSeq: 4 });
  });

  it('accepts events written before sealing began only ahead of the sealed ones, and counts them', async () => {
    const s = await h.open();
    // Appended as a database from before sealing holds them: through a connection without the key.
    const db = connectDatabase({ dataDir: h.dataDir, databaseUrl: h.databaseUrl });
    try {
      await db.knex.transaction(async (trx) => {
        for (let i = 0; i < 2; i++) await appendAuditEvent(sqlIn(trx, { dialect: h.dialect }), new Date(Date.UTC(2026, 0, 1, 0, 0, i)), { type: 'test.before', detail: { i } });
      });
    } finally {
      await db.knex.destroy();
    }
    await s.audit.append({ type: 'test.after' });
    expect(await s.audit.verify()).to.deep.include({ ok: true, count: 3, unsealed: 2 });
  });

  it('detects a deleted event', async () => {
    const s = await h.open();
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await s.audit.append({ type: 'instance.stored', detail: { i } }));
    await dropAppendOnlyGuard(h);
    await h.sql(`DELETE FROM audit_events WHERE id = ${events[2].id}`);
    const result = await s.audit.verify();
    expect(result).to.deep.include({ ok: false, brokenAtSeq: events[3].seq });
    await h.sql(`DELETE FROM audit_events WHERE id = ${events[0].id}`);
    expect(await s.audit.verify()).to.deep.include({ ok: false, brokenAtSeq: events[1].seq });
  });

  it('refuses an event that is not well formed', async () => {
    const s = await h.open();
    expect((await rejection(s.audit.append({ type: '' }))).code).to.equal('invalid-input');
    expect((await rejection(s.audit.append({ type: 'x', studyInstanceUID: 'Doe^Jane' }))).path).to.equal('studyInstanceUID');
  });
});
