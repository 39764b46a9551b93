import type { Migration } from 'kysely/migration';

/**
 * Webhook history past its retention is purged, events by when they were dispatched. PostgreSQL reads
 * them through `outbox_pending_seq` (`delivered_at` first); SQLite dropped its `(delivered_at, …)`
 * index for a partial one of the undispatched events (097), and would scan the whole outbox on every
 * purge. Its index of the dispatched events by `delivered_at` (`outbox_dispatched`) is built after the
 * migrations (see `buildIndexesAfterMigrating` in database.ts); this step marks the schema version that has it.
 */
export const outboxDispatched: Migration = {
  async up() {},
};
