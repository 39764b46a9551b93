import type { Migration } from 'kysely/migration';

/**
 * Checkouts no shopper paid are removed a day after they expire; their index
 * (`checkouts_unpaid_expiry`, on `expires_at` where no payment claimed them) is built after the
 * migrations, not here (see `buildIndexesAfterMigrating` in database.ts): built inside the
 * migrations' transaction it would stop the previous release's nodes from writing checkouts until
 * the whole upgrade committed. This step marks the schema version that has it.
 */
export const checkoutsUnpaidExpiry: Migration = {
  async up() {},
};
