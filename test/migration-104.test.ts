/**
 * Migration 104 on a store holding deliveries still pending from before 095 (an upgrade while a
 * receiver was down), both stores: they take their event's ordering key and position, so a later
 * event about the same payment waits behind them instead of going out first.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deliveryOrderBackfill } from '../src/storage/migrations/104_delivery_order_backfill.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import { postgresAvailable, startGateway } from './support/harness.ts';

const pgUp = await postgresAvailable();
const hex = () => randomBytes(16).toString('hex');

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`104 on ${store}`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : undefined }, () => {
    test('pending deliveries without an ordering key take their event\'s key and position; delivered ones are left alone', async () => {
      const gw = await startGateway({ store, env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' } });
      try {
        const db = gw.app.storage.db;
        const added = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'executions', url: 'http://127.0.0.1:9/' } as never) as { ok: boolean; value: { endpointId: string } };
        assert.ok(added.ok);
        const paymentId = hex();
        const events = [
          { id: hex(), type: 'operation.succeeded', subjectId: hex(), payload: { paymentId } },
          { id: hex(), type: 'operation.succeeded', subjectId: hex(), payload: { paymentId } },
          { id: hex(), type: 'execution.executionCreated', subjectId: 'exec-1', payload: {} },
          { id: hex(), type: 'operation.succeeded', subjectId: hex(), payload: { paymentId } },
        ];
        for (const e of events) await addOutboxEvent(db, { ...e, merchantId: gw.merchant.merchantId, createdAt: Date.now() });
        const delivery = (eventId: string, status: string) => ({
          id: hex(), event_id: eventId, endpoint_id: added.value.endpointId, merchant_id: gw.merchant.merchantId, event_type: 'x', body: '{}',
          status, attempts: 1, retry_index: 1, ladder_start: 0, next_attempt_at: 0, lease_until: null, lease_owner: null, redeliveries: 0,
          last_status: 500, last_error: null, delivered_at: null, created_at: 0, ordering_key: null, seq: null, traceparent: null,
        });
        const rows = [delivery(events[0]!.id, 'pending'), delivery(events[1]!.id, 'pending'), delivery(events[2]!.id, 'pending'), delivery(events[3]!.id, 'delivered')];
        await db.insertInto('webhook_deliveries').values(rows).execute();
        // As on a store that had not run it yet.
        await deliveryOrderBackfill.up(db);
        const after = new Map((await db.selectFrom('webhook_deliveries').select(['id', 'ordering_key', 'seq']).execute()).map((r) => [r.id, r]));
        const [first, second, other, delivered] = rows.map((r) => after.get(r.id)!);
        assert.equal(first!.ordering_key, `payment:${paymentId}`);
        assert.equal(second!.ordering_key, `payment:${paymentId}`);
        assert.ok(Number(first!.seq) < Number(second!.seq), `positions ${first!.seq} < ${second!.seq}: in the order the events were written`);
        assert.equal(other!.ordering_key, 'execution:exec-1');
        assert.equal(delivered!.ordering_key, null, 'a delivered one is left as it was');
      } finally {
        await gw.close();
      }
    });
  });
}
