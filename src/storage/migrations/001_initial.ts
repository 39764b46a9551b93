import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

export const initial: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('merchants')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('live', 'integer', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull().unique())
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('entities')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('channel_name', 'text', (c) => c.notNull())
      .addColumn('unique_merchant_tx', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('credentials')
      .addColumn('secret_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('key_versions')
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('sealed_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('cards')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
      .addColumn('key_version', 'integer', (c) => c.notNull())
      .addColumn('wrapped_key', 'text', (c) => c.notNull())
      .addColumn('pan_ciphertext', 'text', (c) => c.notNull())
      .addColumn('brand', 'text', (c) => c.notNull())
      .addColumn('bin', 'varchar(8)', (c) => c.notNull())
      .addColumn('last4', 'varchar(4)', (c) => c.notNull())
      .addColumn('holder', 'text')
      .addColumn('expiry_month', 'varchar(2)', (c) => c.notNull())
      .addColumn('expiry_year', 'varchar(4)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('cards_fingerprint').on('cards').columns(['merchant_id', 'fingerprint']).execute();
    await db.schema.createTable('payments')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('entity_id', 'varchar(32)', (c) => c.notNull().references('entities.id'))
      .addColumn('initial_type', 'varchar(8)', (c) => c.notNull())
      .addColumn('status', 'varchar(24)', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('card_id', 'varchar(32)', (c) => c.references('cards.id'))
      .addColumn('mode', 'varchar(16)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('transactions')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('payment_id', 'varchar(32)', (c) => c.notNull().references('payments.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('entity_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('type', 'varchar(8)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'varchar(3)', (c) => c.notNull())
      .addColumn('result_code', 'varchar(11)')
      .addColumn('psp_reference', 'text')
      .addColumn('referenced_id', 'varchar(32)')
      .addColumn('merchant_transaction_id', 'text')
      .addColumn('short_id', 'varchar(14)', (c) => c.notNull())
      .addColumn('echo', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('transactions_payment').on('transactions').columns(['payment_id', 'seq']).unique().execute();
    await db.schema.createIndex('transactions_mtx').on('transactions').columns(['entity_id', 'merchant_transaction_id']).execute();
    await db.schema.createIndex('transactions_status').on('transactions').columns(['status', 'updated_at']).execute();
    await db.schema.createTable('rate_hits')
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rate_hits_key').on('rate_hits').columns(['key', 'at']).execute();
    await db.schema.createTable('outbox')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('subject_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema.createIndex('outbox_pending').on('outbox').columns(['delivered_at', 'created_at']).execute();
  },
};
