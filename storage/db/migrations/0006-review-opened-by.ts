/**
 * Who opened a review: `reviews.opened_by`, the first reviewer to open it (their user, or the
 * token when it was issued to none), beside `opened_at` (0002), which says when. A second
 * reviewer opening the same study sees who is reading it already. Reviews opened before this
 * step keep their opened_at and have no opened_by.
 */
import type { Knex } from 'knex';
import type { Migration } from './types.js';

export const reviewOpenedBy: Migration = {
  name: '0006-review-opened-by',

  async up(knex: Knex): Promise<void> {
    // Plain SQL, as in 0005: nullable, no default, so neither database rewrites the table.
    await knex.raw('ALTER TABLE reviews ADD COLUMN opened_by varchar(256)');
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw('ALTER TABLE reviews DROP COLUMN opened_by');
  },
};
