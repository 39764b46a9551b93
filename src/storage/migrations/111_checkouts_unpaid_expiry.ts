import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Checkouts no shopper paid are removed a day after they expire (each widget page load makes one,
 * holding the shopper's details): this index finds them without reading the paid ones, which stay.
 */
export const checkoutsUnpaidExpiry: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('checkouts_unpaid_expiry').on('checkouts').column('expires_at').where(sql.ref('payment_id'), 'is', null).execute();
  },
};
