import type { Kysely } from 'kysely';
import { PostgresAdapter } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Webhooks in the order things happened, and their trace. Outbox events get a position (`seq`) in
 * the order they were written: a sequence on PostgreSQL; SQLite's own `rowid` serves on SQLite (one
 * writer, so it grows with every insert). A delivery keeps its event's position and ordering key
 * (the payment, execution or registration it is about), so the worker never sends an event to an
 * endpoint while an earlier one about the same thing is still pending there. `traceparent` is the
 * W3C trace context of the request that caused the event, carried on to its deliveries.
 */
export const eventOrder: Migration = {
  async up(db: Kysely<any>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) {
      // Existing rows are numbered in their physical order; only undispatched ones are ever ordered by it.
      await db.schema.alterTable('outbox').addColumn('seq', 'bigserial').execute();
      await db.schema.createIndex('outbox_pending_seq').on('outbox').columns(['delivered_at', 'seq']).execute();
    }
    await db.schema.alterTable('outbox').addColumn('traceparent', 'varchar(64)').execute();
    await db.schema.alterTable('webhook_deliveries').addColumn('ordering_key', 'varchar(64)').execute();
    await db.schema.alterTable('webhook_deliveries').addColumn('seq', 'bigint').execute();
    await db.schema.alterTable('webhook_deliveries').addColumn('traceparent', 'varchar(64)').execute();
    await db.schema.createIndex('webhook_deliveries_order').on('webhook_deliveries')
      .columns(['endpoint_id', 'ordering_key', 'status', 'seq']).execute();
  },
};
