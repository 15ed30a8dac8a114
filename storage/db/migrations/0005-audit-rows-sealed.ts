/**
 * Every row of audit_events belongs to the chain, is sealed, and the table cannot be emptied
 * wholesale:
 *   - `seal`: an HMAC of the event's hash under a key derived from the master key. The hash chain
 *     alone can be extended or rewritten by anyone who can write the table (the hash has no
 *     secret); a sealed event cannot be forged without the key. Events written before this step
 *     have none, and verify accepts that only before the first sealed one;
 *   - a seq below 1 is refused (the chain runs from 1, and verify walks it from there, so a row
 *     written below it was outside what verify read);
 *   - on PostgreSQL, TRUNCATE is refused like DELETE (a row trigger never sees a TRUNCATE).
 */
import type { Knex } from 'knex';
import type { Migration } from './types.js';

const isPostgres = (knex: Knex): boolean => knex.client.config.client === 'pg';

export const auditRowsSealed: Migration = {
  name: '0005-audit-rows-sealed',

  async up(knex: Knex): Promise<void> {
    // Plain SQL: knex rebuilds a SQLite table for some changes, which would drop its triggers.
    await knex.raw('ALTER TABLE audit_events ADD COLUMN seal varchar(64)');
    if (isPostgres(knex)) {
      await knex.raw('ALTER TABLE audit_events ADD CONSTRAINT audit_events_seq_from_one CHECK (seq >= 1)');
      await knex.raw(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION limen_audit_append_only()`);
      return;
    }
    // SQLite cannot add a CHECK to a table; a trigger refuses the row instead.
    await knex.raw(`CREATE TRIGGER audit_events_seq_from_one BEFORE INSERT ON audit_events WHEN NEW.seq < 1
      BEGIN SELECT RAISE(ABORT, 'audit_events: seq starts at 1'); END`);
  },

  async down(knex: Knex): Promise<void> {
    if (isPostgres(knex)) {
      await knex.raw('DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events');
      await knex.raw('ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_seq_from_one');
    } else {
      await knex.raw('DROP TRIGGER IF EXISTS audit_events_seq_from_one');
    }
    await knex.raw('ALTER TABLE audit_events DROP COLUMN seal');
  },
};
