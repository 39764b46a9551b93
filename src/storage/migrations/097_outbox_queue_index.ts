import type { Kysely } from 'kysely';
import { PostgresAdapter, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * SQLite: the relay reads undispatched outbox events in the order they were written (the rowid,
 * 095), but `outbox_pending` holds them by `(delivered_at, created_at)`, so every poll sorted all the
 * waiting events in a temporary B-tree: 5.2 ms of the event loop a poll with 50,000 waiting (after a
 * relay outage), against 0.21 ms walking the index below.
 * A partial index of only the undispatched events holds them by rowid (SQLite ends every index with
 * it): the poll walks it in order and stops at its limit. It stays as small as the backlog, and an
 * event leaves it when it is dispatched. The outbox-lag gauge reads the first entry of it (the oldest
 * undispatched event in written order) instead of the minimum `created_at` over `outbox_pending`, which
 * goes. PostgreSQL already reads them through `outbox_pending_seq`.
 */
export const outboxQueueIndex: Migration = {
  async up(db: Kysely<any>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) return;
    await sql`create index outbox_undispatched on outbox (delivered_at) where delivered_at is null`.execute(db);
    await db.schema.dropIndex('outbox_pending').execute();
  },
};
