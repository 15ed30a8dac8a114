/**
 * Migrations are compiled in, not discovered on disk, so the built package (dist/) migrates
 * exactly like the sources. Append new steps to MIGRATIONS; never edit a released one.
 */
import type { Knex } from 'knex';
import { initial } from './0001-initial.js';
import { resultsAndReviews } from './0002-results-reviews.js';
import { unconfirmedInstances } from './0003-unconfirmed-instances.js';
import { leanStoreIndexes } from './0004-lean-store-indexes.js';
import { auditRowsSealed } from './0005-audit-rows-sealed.js';
import { reviewOpenedBy } from './0006-review-opened-by.js';
import type { Migration } from './types.js';

export type { Migration } from './types.js';

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [initial, resultsAndReviews, unconfirmedInstances, leanStoreIndexes, auditRowsSealed, reviewOpenedBy];

/** Name of knex's bookkeeping table (and `<name>_lock`). */
export const MIGRATIONS_TABLE = 'limen_migrations';

/** A knex migration source over MIGRATIONS. */
export function migrationSource(migrations: readonly Migration[] = MIGRATIONS): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => [...migrations],
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({ up: (k: Knex) => m.up(k), down: (k: Knex) => m.down(k) }),
  };
}

/**
 * Brings the schema to the latest version. Safe to run from several processes at once: on
 * PostgreSQL an advisory lock (per schema) is held around knex's migrator, whose own lock
 * table cannot protect the creation of its bookkeeping tables on a fresh database.
 */
export async function migrateToLatest(knex: Knex): Promise<void> {
  const run = () => knex.migrate.latest({ migrationSource: migrationSource(), tableName: MIGRATIONS_TABLE });
  if (knex.client.config.client !== 'pg') {
    await run();
    return;
  }
  const conn = await knex.client.acquireConnection();
  try {
    await knex.raw(`SELECT pg_advisory_lock(hashtext(current_schema() || ?))`, [MIGRATION_LOCK]).connection(conn);
    try {
      await run();
    } finally {
      await knex.raw(`SELECT pg_advisory_unlock(hashtext(current_schema() || ?))`, [MIGRATION_LOCK]).connection(conn);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

const MIGRATION_LOCK = ':limen-migrations';
