/**
 * Webhook history is kept for SWITCHYARD_WEBHOOK_RETENTION_DAYS: a delivery last tried longer ago
 * than that (delivered, or failed for good) goes with its attempts and its event, whose body holds
 * the shopper's details; one still pending stays however old, with its event. Before, every event,
 * delivery and attempt was kept for ever: the shopper's e-mail and addresses in every notification
 * body, and tables growing with every payment.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { admin, closeServer, freePort, listen, loopbackAllow } from './support/webhooks.ts';

const day = 86_400_000;
const clock = manualClock(Date.now());
let gw: Gateway;
let receiver: Server;
before(async () => {
  gw = await startGateway({ clock, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_RETENTION_DAYS: '30' } });
  receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200).end()); });
  await listen(receiver, await freePort());
});
after(async () => { await gw?.close(); if (receiver) await closeServer(receiver); });

test('a delivered webhook goes with its event after the retention; a pending one, and its event, stay', async () => {
  const port = (receiver.address() as { port: number }).port;
  const answering = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/` });
  const disabled = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/off` });
  assert.ok(answering.ok && disabled.ok);
  // The first payment's notification reaches both endpoints; the second's only the one left active.
  const earlier = await pay(gw, { 'customer.email': 'jane@example.com' });
  assert.match(earlier.body.result.code, /^000\.100\.1/, JSON.stringify(earlier.body));
  await gw.app.webhooks.runOnce();
  assert.ok((await gw.app.webhooks.setStatus(disabled.value.endpointId, 'disabled')).ok);
  const paid = await pay(gw, { 'customer.email': 'jane@example.com' });
  assert.match(paid.body.result.code, /^000\.100\.1/, JSON.stringify(paid.body));
  await gw.app.webhooks.runOnce();
  const deliveries = async () => gw.app.storage.db.selectFrom('webhook_deliveries').select(['id', 'endpoint_id', 'status', 'event_id']).where('merchant_id', '=', gw.merchant.merchantId).execute();
  const sent = await deliveries();
  const waiting = sent.filter((d) => d.status === 'pending');
  const delivered = sent.filter((d) => d.status !== 'pending');
  assert.ok(delivered.length > 0 && delivered.every((d) => d.status === 'delivered'), JSON.stringify(sent));
  assert.ok(waiting.length > 0 && waiting.every((d) => d.endpoint_id === disabled.value.endpointId), JSON.stringify(sent));
  const story = async () => (await admin(gw, 'GET', `/payments/${paid.body.id}`)).body;
  const webhooksShown = (await story()).webhooks as { endpointId: string }[];
  assert.ok(webhooksShown.some((w) => w.endpointId === answering.value.endpointId), 'the payment\'s page shows the delivered webhook');

  // Within the retention nothing goes.
  clock.advance(29 * day);
  assert.deepEqual(await gw.app.webhooks.purgeFinished(), { deliveries: 0, events: 0 });
  assert.equal((await deliveries()).length, sent.length);

  const eventsBefore = (await gw.app.storage.db.selectFrom('outbox').select('id').where('merchant_id', '=', gw.merchant.merchantId).execute()).map((e) => e.id).sort();
  clock.advance(2 * day);
  const gone = await gw.app.webhooks.purgeFinished();
  assert.equal(gone.deliveries, delivered.length);
  const left = await deliveries();
  assert.deepEqual(left.map((d) => d.id).sort(), waiting.map((d) => d.id).sort(), 'only the pending deliveries are left');
  const attempts = await gw.app.storage.db.selectFrom('webhook_attempts').select('delivery_id').where('delivery_id', 'in', delivered.map((d) => d.id)).execute();
  assert.deepEqual(attempts, [], 'the delivered ones\' attempts went with them');
  const events = async () => (await gw.app.storage.db.selectFrom('outbox').select('id').where('merchant_id', '=', gw.merchant.merchantId).execute()).map((e) => e.id).sort();
  // (The endpoint's activation message is a delivery of no event.)
  const owed = eventsBefore.filter((e) => waiting.some((d) => d.event_id === e));
  assert.ok(owed.length > 0 && owed.length < eventsBefore.length, JSON.stringify({ eventsBefore, waiting }));
  assert.deepEqual(await events(), owed, 'the events still owed to the disabled endpoint stay, the rest go');
  const shown = (await story()).webhooks as { endpointId: string }[];
  assert.ok(shown.length > 0 && shown.every((w) => w.endpointId === disabled.value.endpointId), JSON.stringify(shown));
  assert.deepEqual((await admin(gw, 'GET', `/payments/${earlier.body.id}`)).body.webhooks, [], 'the earlier payment\'s webhooks are gone');
  // The payment itself is untouched.
  assert.match((await opp(gw, 'GET', `/v1/payments/${paid.body.id}`)).body.result.code, /^000\.100\.1/);
});
