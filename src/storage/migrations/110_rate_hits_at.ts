import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Rate-limit rows are swept by age across every key (a key strangers choose, such as a source
 * address or a payment whose status was read, is often never counted again): an index on the time
 * alone keeps that sweep from reading the whole table.
 */
export const rateHitsAt: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('rate_hits_at').on('rate_hits').column('at').execute();
  },
};
