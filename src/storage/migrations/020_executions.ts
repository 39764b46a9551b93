import { PostgresAdapter, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The executions dialect's tables: vault instruments, PSP accounts and workflows (the cascade's
 * configuration), cascade attempts, executions, and the idempotency keys of the dialect's writes.
 */
export const executions: Migration = {
  async up(db: Kysely<any>) {
    // Outbox rows name their subject; execution ids are UUIDs (36 characters). SQLite does not
    // enforce varchar lengths, PostgreSQL does.
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      await db.schema.alterTable('outbox').alterColumn('subject_id', (c) => c.setDataType('varchar(64)')).execute();
    }
    await db.schema.createTable('instruments')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('card_id', 'varchar(32)', (c) => c.notNull().references('cards.id'))
      .addColumn('holder_reference', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('future_usage', 'text')
      .addColumn('store_instrument', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createTable('psp_accounts')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('behaviour', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('psp_accounts_name').on('psp_accounts').columns(['merchant_id', 'name']).unique().execute();
    await db.schema.createTable('workflows')
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('workflows_pk', ['merchant_id', 'code'])
      .execute();
    await db.schema.createTable('cascade_attempts')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('cascade_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('account_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('account_name', 'text', (c) => c.notNull())
      .addColumn('authenticated', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('cascade_attempts_seq').on('cascade_attempts').columns(['cascade_id', 'seq']).unique().execute();
    await db.schema.createTable('executions')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('workflow_code', 'text', (c) => c.notNull())
      .addColumn('merchant_reference', 'text')
      .addColumn('holder_reference', 'text')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('meta', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(32)', (c) => c.notNull())
      .addColumn('history', 'text', (c) => c.notNull())
      .addColumn('amount', 'bigint')
      .addColumn('currency', 'varchar(3)')
      .addColumn('instrument_id', 'varchar(36)')
      .addColumn('payment_id', 'varchar(32)')
      .addColumn('authorize', 'text')
      .addColumn('action', 'text')
      .addColumn('actions', 'text', (c) => c.notNull())
      .addColumn('capture_closed', 'integer', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('executions_list').on('executions').columns(['merchant_id', 'workflow_code', 'created_at', 'id']).execute();
    await db.schema.createIndex('executions_status').on('executions').columns(['status', 'updated_at']).execute();
    await db.schema.createTable('idempotency_keys')
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('key', 'varchar(36)', (c) => c.notNull())
      .addColumn('operation', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['merchant_id', 'key'])
      .execute();
    await db.schema.createIndex('idempotency_keys_age').on('idempotency_keys').columns(['created_at']).execute();
  },
};
