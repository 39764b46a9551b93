import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Deliveries still pending from before 095 (an upgrade from an older release while a receiver was
 * down) have no ordering key nor position: the worker, which holds a delivery back while an earlier
 * one about the same payment is pending, could not see them, and a later event (the capture) went
 * out before the pending one (its authorization). They take their event's key and position now. The
 * key is the rule as it stood at 095 (a migration does not change with the code after it): an
 * operation's payment, else the event's subject under its type's prefix.
 */
export const deliveryOrderBackfill: Migration = {
  async up(db: Kysely<any>) {
    const position = db.getExecutor().adapter instanceof PostgresAdapter ? sql<number>`o.seq` : sql<number>`o.rowid`;
    const rows = await db.selectFrom('webhook_deliveries as d').innerJoin('outbox as o', 'o.id', 'd.event_id')
      .select(['d.id', 'o.type', 'o.subject_id', 'o.payload', position.as('position')])
      .where('d.status', '=', 'pending').where('d.ordering_key', 'is', null).execute();
    for (const r of rows) {
      const dot = String(r.type).indexOf('.');
      const prefix = dot < 0 ? String(r.type) : String(r.type).slice(0, dot);
      let paymentId: unknown;
      try { paymentId = (JSON.parse(String(r.payload)) as { paymentId?: unknown }).paymentId; } catch { paymentId = undefined; }
      const key = prefix === 'operation' && typeof paymentId === 'string' ? `payment:${paymentId}` : `${prefix}:${String(r.subject_id)}`;
      await db.updateTable('webhook_deliveries').set({ ordering_key: key.slice(0, 64), seq: Number(r.position) }).where('id', '=', r.id).execute();
    }
  },
};
