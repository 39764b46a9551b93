import { sql } from 'kysely';
import type { IdempotencyClaim, IdempotencyStore } from './store.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';

export function createIdempotencyStore(uow: UnitOfWork): IdempotencyStore {
  const { db } = uow;
  const completeWith = async (q: typeof db | Tx, c: IdempotencyClaim, status: number, body: string) => {
    const r = await q.updateTable('idempotency_keys').set({ state: 'done', response_status: status, response_body: body })
      .where('merchant_id', '=', c.merchantId).where('key', '=', c.key).where('state', '=', 'in_flight').where('created_at', '=', c.at).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  };
  return {
    writer: (tx) => ({ complete: (c, status, body) => completeWith(tx, c, status, body) }),
    async claim(row) {
      // The primary key (merchant_id, key) is the lock: of concurrent claims exactly one inserts.
      // The row that stopped this insert may be gone by the time it is read (its request failed and
      // released the key, or the purge took it): the key is free again, and is claimed again.
      for (;;) {
        const r = await db.insertInto('idempotency_keys').values({
          merchant_id: row.merchantId, key: row.key, operation: row.operation, request_hash: row.requestHash,
          state: 'in_flight', response_status: null, response_body: null, created_at: row.createdAt,
        }).onConflict((oc) => oc.columns(['merchant_id', 'key']).doNothing()).executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) return { claimed: true };
        const e = await db.selectFrom('idempotency_keys').selectAll().where('merchant_id', '=', row.merchantId).where('key', '=', row.key).executeTakeFirst();
        if (!e) continue;
        return {
          claimed: false,
          existing: {
            merchantId: e.merchant_id, key: e.key, operation: e.operation, requestHash: e.request_hash, state: e.state as 'in_flight' | 'done',
            responseStatus: e.response_status ?? undefined, responseBody: e.response_body ?? undefined, createdAt: e.created_at,
          },
        };
      }
    },
    async takeOver(merchantId, key, staleAt, now) {
      const r = await db.updateTable('idempotency_keys').set({ created_at: now })
        .where('merchant_id', '=', merchantId).where('key', '=', key).where('state', '=', 'in_flight').where('created_at', '=', staleAt)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async complete(c, status, body) { await completeWith(db, c, status, body); },
    async release(c) {
      await db.deleteFrom('idempotency_keys').where('merchant_id', '=', c.merchantId).where('key', '=', c.key)
        .where('state', '=', 'in_flight').where('created_at', '=', c.at).execute();
    },
    async purge(before, limit) {
      // Through `idempotency_keys_age`, one batch: the keys named by their primary key, and still
      // old when deleted (on PostgreSQL a key taken over by a retry while this waited for its row
      // is checked again by the outer condition only; without the age it went with the batch).
      const r = await db.deleteFrom('idempotency_keys')
        .where(sql<boolean>`(merchant_id, ${sql.ref('key')}) in (${db.selectFrom('idempotency_keys').select(['merchant_id', 'key'])
          .where('created_at', '<', before).orderBy('created_at').limit(limit)})`)
        .where('created_at', '<', before)
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
