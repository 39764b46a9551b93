import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Webhook endpoints, the per-endpoint delivery of each outbox event, and every attempt made.
 * `outbox.delivered_at` (from 001) means "fanned out into deliveries" from here on.
 */
export const webhooks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('webhook_endpoints')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull().references('merchants.id'))
      .addColumn('dialect', 'varchar(16)', (c) => c.notNull())
      .addColumn('entity_id', 'varchar(32)')
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('types', 'text', (c) => c.notNull())
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('previous_secret', 'text')
      .addColumn('previous_secret_until', 'bigint')
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('failing_since', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_endpoints_merchant').on('webhook_endpoints').columns(['merchant_id', 'dialect']).execute();
    await db.schema.createTable('webhook_deliveries')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('event_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('endpoint_id', 'varchar(32)', (c) => c.notNull().references('webhook_endpoints.id'))
      .addColumn('merchant_id', 'varchar(32)', (c) => c.notNull())
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('retry_index', 'integer', (c) => c.notNull())
      .addColumn('ladder_start', 'bigint', (c) => c.notNull())
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_until', 'bigint')
      .addColumn('lease_owner', 'varchar(32)')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_deliveries_event').on('webhook_deliveries').columns(['event_id', 'endpoint_id']).unique().execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute();
    await db.schema.createTable('webhook_attempts')
      .addColumn('id', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('delivery_id', 'varchar(32)', (c) => c.notNull().references('webhook_deliveries.id'))
      .addColumn('attempted_at', 'bigint', (c) => c.notNull())
      .addColumn('http_status', 'integer')
      .addColumn('latency_ms', 'integer', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('excerpt', 'text')
      .execute();
    await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').columns(['delivery_id', 'attempted_at']).execute();
  },
};
