/**
 * The admin delivery log pages, newest first: a log longer than one page is read to its end by
 * following `next`, each delivery once, and a bad limit or cursor is refused naming it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { admin, freePort, loopbackAllow } from './support/webhooks.ts';

let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
after(async () => { await gw?.close(); });

test('the delivery log is read page by page to its end, newest first, each delivery once', async () => {
  // Nothing listens there: every delivery stays in the log, pending its retry.
  const added = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${await freePort()}/notify` });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  for (let i = 0; i < 7; i++) assert.equal((await pay(gw)).status, 200);
  await gw.app.webhooks.runOnce();
  const all = (await admin(gw, 'GET', `/webhooks/deliveries?endpointId=${added.body.endpointId}&limit=1000`)).body;
  assert.ok(all.deliveries.length >= 7, JSON.stringify(all));
  assert.equal(all.next, undefined, 'one page holds them all');

  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 10, 'the pages end');
    const r = await admin(gw, 'GET', `/webhooks/deliveries?endpointId=${added.body.endpointId}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.deliveries.length <= 2);
    seen.push(...r.body.deliveries.map((d: { deliveryId: string }) => d.deliveryId));
    if (!r.body.next) break;
    cursor = r.body.next;
  }
  assert.deepEqual(seen, all.deliveries.map((d: { deliveryId: string }) => d.deliveryId), 'the pages hold the log in its order, each delivery once');
});

test('a bad limit or cursor is refused, naming it', async () => {
  for (const [query, word] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['limit=2x', 'limit'], ['cursor=nonsense', 'cursor']] as const) {
    const r = await admin(gw, 'GET', `/webhooks/deliveries?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.error.code, 'bad_request');
    assert.match(r.body.error.message, new RegExp(word));
  }
});
