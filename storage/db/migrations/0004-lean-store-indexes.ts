/**
 * Fewer B-trees written per stored instance. Every index an instance's transaction touches is one
 * more page in the commit (on SQLite, one more WAL frame and two more writes on the event loop;
 * 23 frames per instance before this step). Dropped, because something else already guarantees
 * what they guaranteed:
 *   - audit_events' unique prev_hash and hash: the unique seq already stops two appends made on
 *     the same head from both committing, and the chain is read by seq;
 *   - instances' unique blob_path: a blob's name is 128 random bits, and nothing looks it up;
 *   - studies' (status, last_received_at): moved by every instance, as last_received_at changes;
 *     an index on status alone finds the few studies still receiving, and never moves until the
 *     study completes.
 * On SQLite, also:
 *   - unconfirmed_instances (a row per instance for a moment) becomes a WITHOUT ROWID table: one
 *     B-tree instead of a table and its key's index;
 *   - audit_events' id loses AUTOINCREMENT, which wrote sqlite_sequence with every event. The
 *     table is append-only (its triggers refuse UPDATE and DELETE), so the largest id is never
 *     removed and a new one is always the largest plus one, as before. The rows are copied as
 *     they are; the chain, hashed over seq and content, verifies the same afterwards.
 */
import type { Knex } from 'knex';
import type { Migration } from './types.js';

const isPostgres = (knex: Knex): boolean => knex.client.config.client === 'pg';

async function rebuildUnconfirmed(knex: Knex, withoutRowid: boolean): Promise<void> {
  await knex.raw(`CREATE TABLE unconfirmed_instances_next (sop_instance_uid varchar(64) NOT NULL PRIMARY KEY, created_at bigint NOT NULL)${withoutRowid ? ' WITHOUT ROWID' : ''}`);
  await knex.raw('INSERT INTO unconfirmed_instances_next (sop_instance_uid, created_at) SELECT sop_instance_uid, created_at FROM unconfirmed_instances');
  await knex.raw('DROP TABLE unconfirmed_instances');
  await knex.raw('ALTER TABLE unconfirmed_instances_next RENAME TO unconfirmed_instances');
}

const AUDIT_COLUMNS = 'id, seq, at, type, actor, study_instance_uid, detail, prev_hash, hash';

async function rebuildAuditEvents(knex: Knex, autoincrement: boolean): Promise<void> {
  await knex.raw(`CREATE TABLE audit_events_next (id integer NOT NULL PRIMARY KEY${autoincrement ? ' AUTOINCREMENT' : ''}, seq bigint NOT NULL, at bigint NOT NULL,
    type varchar(64) NOT NULL, actor varchar(256), study_instance_uid varchar(64), detail text NOT NULL, prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL)`);
  await knex.raw(`INSERT INTO audit_events_next (${AUDIT_COLUMNS}) SELECT ${AUDIT_COLUMNS} FROM audit_events ORDER BY id`);
  // Dropping a table drops its triggers first, so the append-only triggers do not refuse this.
  await knex.raw('DROP TABLE audit_events');
  await knex.raw('ALTER TABLE audit_events_next RENAME TO audit_events');
  await knex.raw('CREATE UNIQUE INDEX audit_events_seq_unique ON audit_events (seq)');
  await knex.raw('CREATE INDEX audit_events_study_instance_uid_index ON audit_events (study_instance_uid)');
  await knex.raw('CREATE INDEX audit_events_type_index ON audit_events (type)');
  for (const op of ['UPDATE', 'DELETE']) {
    await knex.raw(`CREATE TRIGGER audit_events_no_${op.toLowerCase()} BEFORE ${op} ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`);
  }
}

export const leanStoreIndexes: Migration = {
  name: '0004-lean-store-indexes',

  async up(knex: Knex): Promise<void> {
    await knex.schema.alterTable('audit_events', (t) => {
      t.dropUnique(['prev_hash']);
      t.dropUnique(['hash']);
    });
    await knex.schema.alterTable('instances', (t) => t.dropUnique(['blob_path']));
    await knex.schema.alterTable('studies', (t) => {
      t.dropIndex(['status', 'last_received_at']);
      t.index(['status']);
    });
    if (!isPostgres(knex)) {
      await rebuildUnconfirmed(knex, true);
      await rebuildAuditEvents(knex, false);
    }
  },

  async down(knex: Knex): Promise<void> {
    if (!isPostgres(knex)) {
      await rebuildUnconfirmed(knex, false);
      await rebuildAuditEvents(knex, true);
    }
    await knex.schema.alterTable('studies', (t) => {
      t.dropIndex(['status']);
      t.index(['status', 'last_received_at']);
    });
    await knex.schema.alterTable('instances', (t) => t.unique(['blob_path']));
    await knex.schema.alterTable('audit_events', (t) => {
      t.unique(['prev_hash']);
      t.unique(['hash']);
    });
  },
};
