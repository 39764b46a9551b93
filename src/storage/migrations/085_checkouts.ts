import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * COPYandPAY checkouts: what a merchant's backend prepared for the payment widget. `params` holds
 * the checkout's validated /v1 parameters (card numbers already masked), replayed when the shopper
 * pays; `payment_id` is the checkout's payment, claimed by one conditional update in the payment's
 * own unit of work so a checkout is paid once.
 */
export const checkouts: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('checkouts')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('entity_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('registration_ids', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(8)', (c) => c.notNull())
      .addColumn('payment_id', 'varchar(64)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('checkouts_payment').on('checkouts').column('payment_id').execute();
  },
};
