/**
 * Two nodes recording their finished webhook attempts at once, each batch naming the same two
 * endpoints in the opposite order (the order their calls ended in), take the endpoints' rows (the
 * failure streak's UPDATE) in one order. Each took them as its calls ended: PostgreSQL aborted one
 * batch as a deadlock, and its answered deliveries, still leased, were sent again once their leases
 * ran out. An operator's redelivery takes the delivery rows in that order too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createWebhookStore } from '../src/webhooks/kysely-store.ts';
import type { DeliveryRecord, EndpointRecord, WebhookStore } from '../src/webhooks/store.ts';
import { postgresAvailable, secondNode, startGateway, testPostgresUrl, type Gateway } from './support/harness.ts';
import { insertTestEndpoint } from './support/webhooks.ts';
import type { App } from '../src/app.ts';

const pgUp = await postgresAvailable();
const id = () => randomBytes(16).toString('hex');
const key = randomBytes(32);
let gw: Gateway;
let other: { app: App };
let storeA: WebhookStore, storeB: WebhookStore;
let merchantId: string;
let schema: string;

before(async () => {
  if (!pgUp) return;
  gw = await startGateway({ store: 'postgres' });
  other = await secondNode(gw);
  storeA = createWebhookStore(gw.app.storage.uow);
  storeB = createWebhookStore(other.app.storage.uow);
  merchantId = gw.merchant.merchantId;
  const storage = gw.app.config.storage;
  schema = storage.kind === 'postgres' ? storage.schema ?? 'public' : 'public';
});
after(async () => {
  if (!pgUp) return;
  await other?.app.close();
  await gw?.close();
});

test('two nodes recording answered attempts for the same two endpoints in opposite order both record them (no deadlock)', { skip: pgUp ? false : 'PostgreSQL unreachable' }, async () => {
  const T = 1_900_000_000_000;
  const e1 = await insertTestEndpoint(storeA, merchantId, key);
  const e2 = await insertTestEndpoint(storeA, merchantId, key);
  const delivery = (e: EndpointRecord): DeliveryRecord => ({
    id: id(), eventId: id(), endpointId: e.id, merchantId, eventType: 'executionCreated', body: '{"a":1}',
    status: 'pending', attempts: 0, retryIndex: 0, ladderStart: T, nextAttemptAt: T, lastStatus: undefined, lastError: undefined,
    deliveredAt: undefined, createdAt: T,
  });
  // Node A leases one delivery to each endpoint, then node B leases two more.
  const d1 = delivery(e1), d2 = delivery(e2);
  await storeA.addDelivery(d1); await storeA.addDelivery(d2);
  assert.equal((await storeA.claimDue(T, T + 60_000, 'node-a', 10)).length, 2);
  const d3 = delivery(e2), d4 = delivery(e1);
  await storeB.addDelivery(d3); await storeB.addDelivery(d4);
  assert.equal((await storeB.claimDue(T, T + 60_000, 'node-b', 10)).length, 2);

  const answered = (d: DeliveryRecord, owner: string, e: EndpointRecord) => ({
    deliveryId: d.id,
    outcome: {
      attempt: { id: id(), deliveryId: d.id, attemptedAt: T + 10, httpStatus: 200, latencyMs: 5, error: undefined, excerpt: undefined },
      owner, redeliveries: 0, status: 'delivered' as const, retryIndex: 0, nextAttemptAt: T, ladderStart: T + 10,
      endpoint: { id: e.id, answered: true, disableAfterMs: 3_600_000, at: T + 20 },
    },
  });

  // Timing only: a short transaction elsewhere (a third node's record, an operator's edit) holds
  // endpoint 1's row for a moment, so that both nodes' batches are inside their units at once, as
  // they are under load. Node A's batch finished endpoint 1 first, node B's endpoint 2 first.
  const holder = new pg.Client({ connectionString: testPostgresUrl });
  await holder.connect();
  try {
    await holder.query('begin');
    await holder.query(`select id from "${schema}".webhook_endpoints where id = $1 for update`, [e1.id]);
    const a = storeA.recordAttempts([answered(d1, 'node-a', e1), answered(d2, 'node-a', e2)]);
    a.catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    const b = storeB.recordAttempts([answered(d3, 'node-b', e2), answered(d4, 'node-b', e1)]);
    b.catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    await holder.query('commit');
    const [ra, rb] = await Promise.allSettled([a, b]);
    const reasons = [ra, rb].filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    assert.deepEqual(reasons, [], 'a node\'s record of answered deliveries failed (deadlock): they stay leased and are sent again when the lease runs out');
    const delivered = await Promise.all([d1, d2, d3, d4].map(async (d) => (await storeA.deliveries({ eventId: d.eventId }))[0]!.status));
    assert.deepEqual(delivered, ['delivered', 'delivered', 'delivered', 'delivered']);
  } finally {
    await holder.query('rollback').catch(() => {});
    await holder.end();
  }
});
