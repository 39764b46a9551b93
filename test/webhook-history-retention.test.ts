/**
 * Webhook history is kept for SWITCHYARD_WEBHOOK_RETENTION_DAYS: a delivery last tried longer ago
 * than that (delivered, or failed for good) goes with its attempts and its event, whose body holds
 * the shopper's details; one still pending stays however old, with its event. Before, every event,
 * delivery and attempt was kept for ever: the shopper's e-mail and addresses in every notification
 * body, and tables growing with every payment. The last try decides, not when a delivery fell due
 * (one due for weeks behind a disabled endpoint and sent today stays), and an operator's redelivery
 * racing the purge on PostgreSQL is never deleted after it was answered "redelivered".
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { sql } from 'kysely';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
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

test('a webhook sent today, after its endpoint was disabled for 40 days, is kept for the retention', async () => {
  const port = (receiver.address() as { port: number }).port;
  const ep = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/late` });
  assert.ok(ep.ok);
  assert.ok((await gw.app.webhooks.setStatus(ep.value.endpointId, 'disabled')).ok);
  const paid = await pay(gw);
  assert.match(paid.body.result.code, /^000\.100\.1/, JSON.stringify(paid.body));
  await gw.app.webhooks.runOnce();
  const ofPayment = async () => ((await admin(gw, 'GET', `/payments/${paid.body.id}`)).body.webhooks as { endpointId: string; status: string }[])
    .filter((w) => w.endpointId === ep.value.endpointId);
  assert.ok((await ofPayment()).length > 0 && (await ofPayment()).every((w) => w.status === 'pending'));
  // The operator enables the endpoint 40 days later; the webhook goes out now.
  clock.advance(40 * day);
  assert.ok((await gw.app.webhooks.setStatus(ep.value.endpointId, 'active')).ok);
  await gw.app.webhooks.runOnce();
  const sent = await ofPayment();
  assert.ok(sent.length > 0 && sent.every((w) => w.status === 'delivered'), JSON.stringify(sent));
  // The hourly job an hour later: sent an hour ago, it is well within the 30 days.
  clock.advance(3_600_000);
  await gw.app.webhooks.purgeFinished();
  assert.deepEqual(await ofPayment(), sent);
});

test('on PostgreSQL, a delivery redelivered while the purge runs is kept, and sent', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL is not reachable');
  const pgClock = manualClock(Date.now());
  const g = await startGateway({ store: 'postgres', clock: pgClock, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_RETENTION_DAYS: '30' } });
  try {
    const db = g.app.storage.db;
    const port = (receiver.address() as { port: number }).port;
    const ep = await g.app.webhooks.addEndpoint({ merchantId: g.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/` });
    assert.ok(ep.ok);
    const paid = await pay(g);
    assert.match(paid.body.result.code, /^000\.100\.1/, JSON.stringify(paid.body));
    await g.app.webhooks.runOnce();
    const rows = await db.selectFrom('webhook_deliveries as d').innerJoin('outbox as o', 'o.id', 'd.event_id')
      .select(['d.id', 'd.event_id', 'd.status']).where('o.subject_id', '=', paid.body.id as string).execute();
    assert.ok(rows.length > 0 && rows.every((r) => r.status === 'delivered'), JSON.stringify(rows));
    const eventId = rows[0]!.event_id;
    pgClock.advance(31 * day);
    // The redelivery's UPDATE is held inside its transaction (its row locked, not yet committed):
    // the window in which another node's purge reads what it will delete.
    await sql`create function slow_redelivery() returns trigger language plpgsql as $$ begin
      if new.status = 'pending' and old.status <> 'pending' then perform pg_sleep(1.5); end if; return new; end $$`.execute(db);
    await sql`create trigger slow_redelivery before update on webhook_deliveries for each row execute function slow_redelivery()`.execute(db);
    const redelivering = g.app.webhooks.redeliverEvent(eventId);
    await new Promise((r) => setTimeout(r, 500));
    const [redelivered] = await Promise.all([redelivering, g.app.webhooks.purgeFinished()]);
    await sql`drop trigger slow_redelivery on webhook_deliveries`.execute(db);
    assert.ok(redelivered.ok && redelivered.value.redelivered === rows.length, JSON.stringify(redelivered));
    const left = await db.selectFrom('webhook_deliveries').select('status').where('event_id', '=', eventId).execute();
    assert.deepEqual(left.map((r) => r.status), rows.map(() => 'pending'), 'answered "redelivered", it is still there to be sent');
    assert.equal((await db.selectFrom('outbox').select('id').where('id', '=', eventId).execute()).length, 1, 'and so is its event');
  } finally {
    await g.close();
  }
});
