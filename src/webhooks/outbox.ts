import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { OutboxEvent } from '../payments/store.ts';
import { addEventRow } from '../storage/outbox-row.ts';

export type { OutboxEvent };

/** Anything that can write an outbox row inside the caller's transaction. */
export type OutboxTarget = Kysely<Database> | Transaction<Database> | { addEvent(e: OutboxEvent): Promise<void> };

/**
 * The one outbox writer every dialect and concern uses. Call it inside the transaction that makes
 * the state change (a payment writer `w`, or a Kysely transaction), so the event commits with it.
 *
 * Types: `transaction.<status>` (payload with `entityId`) are /v1 PAYMENT notifications;
 * `registration.<created|updated|deleted>` (payload `{entityId, registration}`) are /v1
 * REGISTRATION notifications; `execution.<catalogueEvent>` (payload = the whole webhook body
 * `{event, time, workspaceId, eventTrigger, details}`) go to the merchant's executions endpoints.
 *
 * @example
 * await store.write(async (w) => { ...; await addOutboxEvent(w, { id, merchantId, type: 'execution.executionCreated', subjectId, payload, createdAt }); });
 */
export async function addOutboxEvent(target: OutboxTarget, e: OutboxEvent): Promise<void> {
  if ('addEvent' in target) return target.addEvent(e);
  // A Kysely handle outside a transaction writes the row on its own (tests, one-row changes).
  await addEventRow(target as Transaction<Database>, e);
}
