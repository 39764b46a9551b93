/**
 * Webhooks: a /v1 PAYMENT notification carries what the platform's own example does
 * (presentationAmount, presentationCurrency, authentication.entityId); an endpoint's failure streak
 * starts again after a pause, so one transient failure weeks after a delivery ran out its ladder
 * does not disable the endpoint.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { manualClock } from '../src/runtime/clock.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import { createReceiver as createOppReceiver, type Notification } from '../examples/webhooks/opp-receiver.ts';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { admin, closeServer, freePort, listen, loopbackAllow } from './support/webhooks.ts';

const minute = 60_000;
const day = 24 * 60 * minute;
const clock = manualClock();
let gw: Gateway;
before(async () => { gw = await startGateway({ clock, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
after(async () => { await gw.close(); });

test('a /v1 PAYMENT notification carries the fields of the reference §8.2 example notification, with their types', async () => {
  const port = await freePort();
  const r = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/`, types: ['PAYMENT'] });
  assert.equal(r.status, 201);
  const got: Notification[] = [];
  const receiver = createOppReceiver(r.body.secret, (n) => { got.push(n); });
  await listen(receiver, port);
  try {
    const pa = await pay(gw, { paymentType: 'PA' });
    await gw.app.webhooks.runOnce();
    const n = got.find((x) => x.type === 'PAYMENT' && x.payload.id === pa.body.id);
    assert.ok(n, 'notification received');
    const p = n.payload;
    // The platform's example notification: presentationAmount/Currency and authentication.entityId too.
    for (const f of ['id', 'paymentType', 'paymentBrand', 'amount', 'currency', 'descriptor', 'buildNumber', 'timestamp', 'ndc']) {
      assert.equal(typeof p[f], 'string', `${f} is a string`);
    }
    assert.equal(typeof p.result?.code, 'string');
    assert.equal(typeof p.card?.bin, 'string');
    assert.equal(typeof p.risk?.score, 'string');
    assert.equal(p.presentationAmount, p.amount, 'presentationAmount as in the reference example');
    assert.equal(p.presentationCurrency, p.currency, 'presentationCurrency as in the reference example');
    assert.deepEqual(p.authentication, { entityId: gw.merchant.entityId }, 'authentication.entityId as in the reference example');
  } finally {
    await closeServer(receiver);
  }
});

test('an executions endpoint whose one delivery ran out its ladder long ago is not disabled by a single transient failure weeks later', async () => {
  let answer = 500;
  const port = await freePort();
  const receiver = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(answer).end(String(answer))); });
  await listen(receiver, port);
  try {
    const r = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${port}/` });
    assert.equal(r.status, 201);
    const endpointId = r.body.endpointId as string;
    const emit = async () => {
      const execId = randomBytes(16).toString('hex');
      await addOutboxEvent(gw.app.storage.db, {
        id: randomBytes(16).toString('hex'), merchantId: gw.merchant.merchantId, type: 'execution.executionCreated', subjectId: execId, createdAt: clock.now(),
        payload: { event: 'executionCreated', time: new Date(clock.now()).toISOString(), workspaceId: gw.merchant.workspaceId, eventTrigger: 'api', details: { execution: { id: execId } } },
      });
    };
    // One event the receiver refuses until its ladder (about 4.2 days) runs out: given up, endpoint still active.
    await emit();
    const start = clock.now();
    while (clock.now() < start + 5 * day - minute) {
      await gw.app.webhooks.runOnce();
      clock.advance(10 * minute);
    }
    const first = await gw.app.webhooks.deliveries({ endpointId });
    assert.equal(first[0]!.status, 'failed', 'the ladder ran out');
    assert.equal((await gw.app.webhooks.endpoint(endpointId))!.status, 'active');

    // Weeks later, the receiver healthy again, a new event meets one transient 503.
    clock.advance(20 * day);
    answer = 503;
    await emit();
    await gw.app.webhooks.runOnce();
    const ep = (await gw.app.webhooks.endpoint(endpointId))!;
    assert.equal(ep.status, 'active', `disabled after a single failed attempt (failingSince ${ep.failingSince})`);
  } finally {
    await closeServer(receiver);
  }
});
