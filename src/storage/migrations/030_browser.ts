import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Browser tokenization: the web origins a merchant registered (CORS on tokenization, the secure
 * fields' `frame-ancestors`), the RSA key pairs browsers encrypt card data to (private halves
 * sealed by the master key), and an index for a holder's saved cards.
 */
export const browser: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('merchant_origins')
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('origin', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('merchant_origins_pk', ['merchant_id', 'origin'])
      .execute();
    await db.schema.createTable('tokenization_keys')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('sealed_private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('instruments_holder').on('instruments').columns(['merchant_id', 'holder_reference']).execute();
  },
};
