/**
 * The pipeline's results (GLB, STL, report: encrypted blobs like instances) and the review gate:
 * one review per study, what was approved, by whom, when.
 */
import type { Knex } from 'knex';
import type { Migration } from './types.js';

const UID = 64;

export const resultsAndReviews: Migration = {
  name: '0002-results-reviews',

  async up(knex: Knex): Promise<void> {
    await knex.schema.createTable('results', (t) => {
      t.string('study_instance_uid', UID).notNullable().references('studies.study_instance_uid').onDelete('CASCADE');
      t.string('name', 128).notNullable();
      t.string('media_type', 128).notNullable();
      t.string('blob_path', 128).notNullable();
      t.string('sha256', 64).notNullable();
      t.bigInteger('size_bytes').notNullable();
      t.bigInteger('created_at').notNullable();
      t.primary(['study_instance_uid', 'name']);
    });

    await knex.schema.createTable('reviews', (t) => {
      t.string('study_instance_uid', UID).primary().references('studies.study_instance_uid').onDelete('CASCADE');
      // pending → in_review → approved | rejected
      t.string('status', 16).notNullable();
      t.text('summary').notNullable();
      t.string('seg_sop_instance_uid', UID).notNullable();
      t.string('glb_sha256', 64).notNullable();
      t.bigInteger('created_at').notNullable();
      t.bigInteger('opened_at');
      t.bigInteger('decided_at');
      t.string('decided_by', 128);
      t.text('comment');
      t.index(['status', 'created_at']);
    });
  },

  async down(knex: Knex): Promise<void> {
    await knex.schema.dropTableIfExists('reviews');
    await knex.schema.dropTableIfExists('results');
  },
};
