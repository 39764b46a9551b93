import type { Transaction } from 'kysely';
import type { Database } from './schema.ts';
import type { OutboxEvent } from '../payments/store.ts';

/** Writes an outbox row inside the caller's transaction (every concern's events go through here). */
export async function addEventRow(tx: Transaction<Database>, e: OutboxEvent): Promise<void> {
  await tx.insertInto('outbox').values({
    id: e.id, merchant_id: e.merchantId, type: e.type, subject_id: e.subjectId,
    payload: JSON.stringify(e.payload), created_at: e.createdAt, delivered_at: null,
  }).execute();
}
