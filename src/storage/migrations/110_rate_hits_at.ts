import type { Migration } from 'kysely/migration';

/**
 * Rate-limit rows are swept by age across every key; their index by time (`rate_hits_at`) is built
 * after the migrations, not here (see `buildIndexesAfterMigrating` in database.ts): built inside the
 * migrations' transaction it would stop every rate count of the previous release's nodes until the
 * whole upgrade committed. This step marks the schema version that has it.
 */
export const rateHitsAt: Migration = {
  async up() {},
};
