/**
 * An endpoint the operator disabled on purpose (`webhooks disable`, or `webhooks forward` stopped
 * with Ctrl-C) keeps a pending delivery for every later event of the merchant, waiting for an
 * enable. Those are no backlog: the delivery gauges (and the alert on them) and the dashboard's
 * backlog leave them out. What an endpoint the gateway disabled itself (failing too long) leaves
 * undelivered is a backlog still: an operator must hear of it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { loopbackAllow } from './support/webhooks.ts';
import { createPaymentSearch } from '../src/search/kysely-store.ts';

let gw: Gateway;
let receiver: Server;

before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.end('OK')); });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});
after(async () => { await gw?.close(); receiver?.close(); });

const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

test('deliveries waiting for an endpoint the operator disabled are not a backlog that never drains', async () => {
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  // The merchant's real listener, healthy, and a `webhooks forward` session that was stopped.
  const live = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url, entityId: gw.merchant.entityId });
  const forwarded = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url, entityId: gw.merchant.entityId });
  assert.ok(live.ok && forwarded.ok);
  await gw.app.webhooks.runOnce();
  await gw.app.webhooks.setStatus(forwarded.value.endpointId, 'disabled');

  assert.equal((await pay(gw)).body.result.code, '000.100.110');
  await gw.app.webhooks.runOnce();
  await gw.app.webhooks.runOnce();

  const db = gw.app.storage.db;
  const rows = await db.selectFrom('webhook_deliveries').select(['endpoint_id', 'status']).execute();
  assert.ok(rows.filter((r) => r.endpoint_id === live.value.endpointId).every((r) => r.status === 'delivered'), JSON.stringify(rows));

  // Two hours later (the payment's event is as old as the disabled endpoint's waiting delivery).
  await db.updateTable('webhook_deliveries').set((eb) => ({ created_at: eb('created_at', '-', 2 * 3600_000) }))
    .where('endpoint_id', '=', forwarded.value.endpointId).execute();
  const metrics = await (await fetch(`${gw.url}/metrics`)).text();
  const pending = gauge(metrics, 'switchyard_webhook_deliveries_pending');
  const oldest = gauge(metrics, 'switchyard_webhook_oldest_pending_seconds');
  assert.ok(rows.some((r) => r.endpoint_id === forwarded.value.endpointId && r.status === 'pending'), 'the disabled endpoint\'s delivery waits for an enable');
  assert.deepEqual({ pending, oldest }, { pending: 0, oldest: 0 }, 'every active endpoint is served, yet the backlog gauges count the disabled endpoint\'s waiting delivery');
  const overview = await createPaymentSearch(db).overview(0, gw.merchant.merchantId);
  assert.equal(overview.webhookBacklog.pending, 0, 'the dashboard\'s backlog counts it too');
});

test('deliveries stranded by an endpoint the gateway itself disabled after failing still count as a backlog', async () => {
  // Disabled at its first failure, so the test need not wait for days.
  const failing = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS: '0' } });
  const broken = createServer((req, res) => { req.resume(); req.on('end', () => { res.statusCode = 500; res.end('down'); }); });
  await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/hook`;
    const ep = await failing.app.webhooks.addEndpoint({ merchantId: failing.merchant.merchantId, dialect: 'opp', url, entityId: failing.merchant.entityId });
    assert.ok(ep.ok);
    assert.equal((await pay(failing)).body.result.code, '000.100.110');
    await failing.app.webhooks.runOnce();
    await failing.app.webhooks.runOnce();
    const db = failing.app.storage.db;
    assert.equal((await db.selectFrom('webhook_endpoints').select('status').where('id', '=', ep.value.endpointId).executeTakeFirstOrThrow()).status, 'disabled',
      'the gateway disabled the failing endpoint');
    await db.updateTable('webhook_deliveries').set((eb) => ({ created_at: eb('created_at', '-', 2 * 3600_000) })).execute();
    const metrics = await (await fetch(`${failing.url}/metrics`)).text();
    assert.ok(gauge(metrics, 'switchyard_webhook_deliveries_pending') > 0);
    assert.ok(gauge(metrics, 'switchyard_webhook_oldest_pending_seconds') > 3600, 'the backlog alert would resolve when the gateway gave up');
    assert.ok((await createPaymentSearch(db).overview(0, failing.merchant.merchantId)).webhookBacklog.pending > 0);
  } finally {
    await failing.close();
    broken.close();
  }
});
