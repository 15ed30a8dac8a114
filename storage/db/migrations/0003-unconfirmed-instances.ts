/**
 * Instances committed while their blob was still being flushed. A store commits its rows and
 * flushes its blob at the same time and answers only once both are on disk; the row here says
 * "not known to be on disk yet" until a later commit removes it. After a power loss, the ones
 * left are checked at start: a blob that does not read back whole takes its instance with it.
 */
import type { Knex } from 'knex';
import type { Migration } from './types.js';

export const unconfirmedInstances: Migration = {
  name: '0003-unconfirmed-instances',

  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable('unconfirmed_instances', (t) => {
      t.string('sop_instance_uid', 64).primary();
      t.bigInteger('created_at').notNullable();
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTable('unconfirmed_instances');
  },
};
