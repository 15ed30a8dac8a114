/**
 * The edge's tables: studies, series, instances, study keys, the vault, jobs, API tokens and
 * the audit trail. Times are epoch milliseconds (bigint) so both databases compare them the
 * same way; JSON is text; sealed values are binary.
 */
import type { Knex } from 'knex';
import type { Migration } from './types.js';

const UID = 64;

export const initial: Migration = {
  name: '0001-initial',

  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable('settings', (t) => {
      t.string('key', 64).primary();
      t.text('value').notNullable();
    });

    await knex.schema.createTable('studies', (t) => {
      t.string('study_instance_uid', UID).primary();
      t.string('status', 32).notNullable();
      t.string('route', 128).notNullable();
      t.integer('stable_seconds').notNullable();
      t.integer('retention_days').notNullable();
      t.bigInteger('first_received_at');
      t.bigInteger('last_received_at');
      t.bigInteger('expires_at');
      t.bigInteger('completed_at');
      t.integer('series_count').notNullable().defaultTo(0);
      t.integer('instance_count').notNullable().defaultTo(0);
      t.text('attributes').notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.index(['status', 'last_received_at']);
      t.index(['expires_at']);
    });

    // Apart from the study row so destroying a key is one UPDATE and key material has its own table.
    await knex.schema.createTable('study_keys', (t) => {
      t.string('study_instance_uid', UID).primary().references('studies.study_instance_uid').onDelete('CASCADE');
      t.binary('wrapped_key');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('destroyed_at');
    });

    await knex.schema.createTable('series', (t) => {
      t.string('series_instance_uid', UID).primary();
      t.string('study_instance_uid', UID).notNullable().references('studies.study_instance_uid').onDelete('CASCADE');
      t.string('modality', 16);
      t.integer('series_number');
      t.integer('instance_count').notNullable().defaultTo(0);
      t.text('attributes').notNullable();
      t.bigInteger('created_at').notNullable();
      t.index(['study_instance_uid']);
    });

    await knex.schema.createTable('instances', (t) => {
      t.string('sop_instance_uid', UID).primary();
      t.string('series_instance_uid', UID).notNullable().references('series.series_instance_uid').onDelete('CASCADE');
      t.string('study_instance_uid', UID).notNullable().references('studies.study_instance_uid').onDelete('CASCADE');
      t.string('sop_class_uid', UID).notNullable();
      t.string('transfer_syntax_uid', UID).notNullable();
      t.integer('instance_number');
      t.string('blob_path', 200).notNullable().unique();
      t.bigInteger('size_bytes').notNullable();
      t.text('attributes').notNullable();
      t.bigInteger('received_at').notNullable();
      t.index(['series_instance_uid']);
      t.index(['study_instance_uid']);
    });

    await knex.schema.createTable('vault_records', (t) => {
      t.string('sop_instance_uid', UID).primary();
      t.string('study_instance_uid', UID).notNullable().references('studies.study_instance_uid').onDelete('CASCADE');
      t.binary('sealed').notNullable();
      t.bigInteger('created_at').notNullable();
      t.index(['study_instance_uid']);
    });

    await knex.schema.createTable('jobs', (t) => {
      t.increments('id').primary();
      t.string('type', 64).notNullable();
      t.string('study_instance_uid', UID);
      t.text('payload').notNullable();
      t.string('status', 16).notNullable();
      t.integer('attempts').notNullable().defaultTo(0);
      t.integer('max_attempts').notNullable();
      t.bigInteger('run_at').notNullable();
      t.bigInteger('lease_expires_at');
      t.string('worker_id', 128);
      t.string('stage', 64);
      t.double('percent');
      t.text('last_error');
      t.text('result');
      t.bigInteger('created_at').notNullable();
      t.bigInteger('updated_at').notNullable();
      t.bigInteger('finished_at');
      t.index(['type', 'status', 'run_at']);
      t.index(['study_instance_uid']);
    });

    await knex.schema.createTable('api_tokens', (t) => {
      t.string('id', 32).primary();
      t.string('token_hash', 64).notNullable().unique();
      t.string('role', 16).notNullable();
      t.string('user_id', 256);
      t.bigInteger('created_at').notNullable();
      t.bigInteger('expires_at').notNullable();
      t.bigInteger('revoked_at');
      t.bigInteger('last_used_at');
    });

    await knex.schema.createTable('audit_events', (t) => {
      t.increments('id').primary();
      // seq and prev_hash are unique: two appends that raced to the same head cannot both commit.
      t.bigInteger('seq').notNullable().unique();
      t.bigInteger('at').notNullable();
      t.string('type', 64).notNullable();
      t.string('actor', 256);
      t.string('study_instance_uid', UID);
      t.text('detail').notNullable();
      t.string('prev_hash', 64).notNullable().unique();
      t.string('hash', 64).notNullable().unique();
      t.index(['study_instance_uid']);
      t.index(['type']);
    });
    await forbidAuditRewrites(knex);
  },

  async down(knex: Knex): Promise<void> {
    for (const table of ['audit_events', 'api_tokens', 'jobs', 'vault_records', 'instances', 'series', 'study_keys', 'studies', 'settings']) {
      await knex.schema.dropTableIfExists(table);
    }
    if (knex.client.config.client === 'pg') await knex.raw('DROP FUNCTION IF EXISTS limen_audit_append_only()');
  },
};

// Defence in depth: the hash chain detects rewrites, these triggers refuse them in the first place.
async function forbidAuditRewrites(knex: Knex): Promise<void> {
  if (knex.client.config.client === 'pg') {
    await knex.raw(`CREATE FUNCTION limen_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$`);
    await knex.raw(`CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION limen_audit_append_only()`);
    return;
  }
  for (const op of ['UPDATE', 'DELETE']) {
    await knex.raw(`CREATE TRIGGER audit_events_no_${op.toLowerCase()} BEFORE ${op} ON audit_events
      BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END`);
  }
}
