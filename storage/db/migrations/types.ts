import type { Knex } from 'knex';

/** One schema step; the same code serves SQLite and PostgreSQL. */
export interface Migration {
  /** Sorts in application order; recorded in `limen_migrations`. */
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}
