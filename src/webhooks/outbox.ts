import type { Kysely, Selectable } from 'kysely';
import type { Database, OutboxTable } from '../storage/schema.ts';
import { prepare } from '../storage/prepared.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import { currentTrace } from '../runtime/request-context.ts';
import { traceparentOf } from '../runtime/trace.ts';

/** A state change announced to whoever listens: written with the change, delivered later by the worker. */
export interface OutboxEvent {
  readonly id: string;
  readonly merchantId: string;
  readonly type: string;
  readonly subjectId: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** Read back only: the event's position in the outbox (the order events were written). */
  readonly seq?: number;
  /** Read back only: the W3C trace context the event was written in. */
  readonly traceparent?: string | undefined;
}

/**
 * The one outbox writer every concern uses. Call it with the unit of work's `tx` of the change it
 * announces, so the event commits with the change or not at all; nothing is ever sent inline.
 *
 * Types: `transaction.<status>` (payload with `entityId`) are /v1 PAYMENT notifications;
 * `registration.<created|updated|deleted>` (payload `{entityId, registration}`) are /v1
 * REGISTRATION notifications; `execution.<catalogueEvent>` (payload = the whole webhook body
 * `{event, time, workspaceId, eventTrigger, details}`) go to the merchant's executions endpoints.
 *
 * @example
 * await uow.run(async (tx) => { ...; await addOutboxEvent(tx, { id, merchantId, type: 'execution.executionCreated', subjectId, payload, createdAt }); });
 */
export async function addOutboxEvent(tx: Tx | Kysely<Database>, e: OutboxEvent): Promise<void> {
  await tx.insertInto('outbox').values(outboxRow(e)).execute();
}

/**
 * `addOutboxEvent` for transactions opened over `db`, its statement compiled once
 * (storage/prepared.ts): the payment engine writes an event with every outcome.
 */
export function outboxWriterOf(db: Kysely<Database>): (tx: Tx | Kysely<Database>, e: OutboxEvent) => Promise<void> {
  const insert = prepare(db, (q, p: Selectable<OutboxTable>) => q.insertInto('outbox').values(p));
  return async (tx, e) => { await insert.later(tx, outboxRow(e)); };
}

function outboxRow(e: OutboxEvent): Selectable<OutboxTable> {
  return {
    id: e.id, merchant_id: e.merchantId, type: e.type, subject_id: e.subjectId,
    payload: JSON.stringify(e.payload), created_at: e.createdAt, delivered_at: null,
    // The request (or job) whose work wrote the event: its webhooks join the same trace.
    traceparent: currentTrace() ? traceparentOf(currentTrace()!) : null,
  };
}
