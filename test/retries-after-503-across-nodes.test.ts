/**
 * Merchants' retries across nodes after a 503: a node whose clock is off refuses every unit of work,
 * and a request refused so, sent again with the same key to another node, is carried out once; a node
 * whose clock goes off mid-payment leaves a payment the reconciler settles, charged once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import type { App } from '../src/app.ts';
import { opp, postgresAvailable, secondNode, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf } from './support/executions.ts';

const skip = (await postgresAvailable()) ? undefined : 'PostgreSQL unreachable';

describe('retries across nodes after a 503 (PostgreSQL)', { skip }, () => {
  const calls: ConnectorRequest[] = [];
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  /** Set by a test: runs inside the PSP call, before its answer is recorded. */
  let duringCall: (() => Promise<void>) | undefined;
  const counted: Connector = {
    ...sim,
    execute: async (req) => {
      calls.push(req);
      const r = await sim.execute(req);
      const hook = duringCall; duringCall = undefined;
      if (hook) await hook();
      return r;
    },
  };
  let a: Gateway;
  /** Off from the start. */
  let b: { app: App; url: string; merchant: Gateway['merchant'] };
  /** Right until a test sets it off. */
  let cOffset = 0;
  let c: { app: App; url: string; merchant: Gateway['merchant'] };
  let token: string;

  before(async () => {
    a = await startGateway({ store: 'postgres', processor: counted, env: { SWITCHYARD_PSP_TIMEOUT_MS: '500' } });
    b = await secondNode(a, { processor: counted, wallClock: () => Date.now() - 60_000 });
    await b.app.clockGate.check();
    c = await secondNode(a, { processor: counted, wallClock: () => Date.now() + cOffset });
    await c.app.clockGate.check();
    token = await tokenOf(a);
  });
  after(async () => { await c?.app.close(); await b?.app.close(); await a?.close(); });

  const turnCOff = async () => { cOffset = -60_000; await c.app.clockGate.check(); assert.ok(c.app.clockGate.refusal(), 'C is off now'); };
  const turnCOn = async () => { cOffset = 0; await c.app.clockGate.check(); };
  const reconcileOnA = async () => { await new Promise((r) => setTimeout(r, 1100)); await a.app.payments.reconcile(); await a.app.payments.idle(); };

  test('executions: a create and an authorize refused 503 by a node whose clock is off are carried out once by the other node under the same key', async () => {
    const inst = await instrument(a, token);
    const ref = `order-${randomUUID().slice(0, 8)}`;
    const body = { merchantReference: ref, holderReference: 'customer-1', workspaceId: a.merchant.workspaceId, meta: {} };
    const key = randomUUID();
    const refused = await call(b, 'POST', wf, { token, key, body });
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    const done = await call(a, 'POST', wf, { token, key, body });
    assert.equal(done.status, 201, JSON.stringify(done.body));
    const again = await call(a, 'POST', wf, { token, key, body });
    assert.deepEqual([again.status, again.body.id], [201, done.body.id]);

    const before = calls.length;
    const authKey = randomUUID();
    const r1 = await call(b, 'POST', `${wf}/${done.body.id}/authorize`, { token, key: authKey, body: authorizeBody(inst) });
    assert.equal(r1.status, 503, JSON.stringify(r1.body));
    const r2 = await call(a, 'POST', `${wf}/${done.body.id}/authorize`, { token, key: authKey, body: authorizeBody(inst) });
    assert.equal(r2.status, 200, JSON.stringify(r2.body));
    await a.app.payments.idle();
    assert.equal(calls.length - before, 1, 'one PSP call');
  });

  test('executions: an authorize whose node goes off between the attempt and its answer is settled by the reconciler, and the key replays it', async () => {
    await turnCOn();
    const inst = await instrument(a, token);
    const id = await execution(a, token);
    const before = calls.length;
    duringCall = turnCOff;
    const key = randomUUID();
    const first = await call(c, 'POST', `${wf}/${id}/authorize`, { token, key, body: authorizeBody(inst) });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    await c.app.payments.idle();
    await reconcileOnA();
    const viewed = await call(a, 'GET', `${wf}/${id}`, { token });
    assert.equal(viewed.body.status, 'authorized', JSON.stringify(viewed.body));
    const retryA = await call(a, 'POST', `${wf}/${id}/authorize`, { token, key, body: authorizeBody(inst) });
    assert.deepEqual([retryA.status, retryA.body.actionId], [200, first.body.actionId], JSON.stringify(retryA.body));
    // The node still off writes nothing, not even the key's claim: sent there, the retry is refused
    // as the store's being unavailable; once its clock agrees, it replays the same answer.
    const refusedOnC = await call(c, 'POST', `${wf}/${id}/authorize`, { token, key, body: authorizeBody(inst) });
    assert.deepEqual([refusedOnC.status, refusedOnC.body.errors?.[0]?.code], [503, 'service.unavailable'], JSON.stringify(refusedOnC.body));
    await turnCOn();
    const retryC = await call(c, 'POST', `${wf}/${id}/authorize`, { token, key, body: authorizeBody(inst) });
    assert.deepEqual([retryC.status, retryC.body.actionId], [200, first.body.actionId], JSON.stringify(retryC.body));
    assert.equal(calls.length - before, 1, 'authorized once');
  });

  test('/v1: a DB whose node goes off between the attempt and its answer is answered in doubt with its id, found by its merchantTransactionId, and settled once', async () => {
    await turnCOn();
    const before = calls.length;
    const mtx = `mtx-${randomUUID()}`;
    duringCall = turnCOff;
    const first = await opp(c, 'POST', '/v1/payments', { amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: mtx, ...testCard });
    assert.notEqual(first.status, 503, `a payment whose PSP was asked is never answered 503: ${JSON.stringify(first.body)}`);
    assert.equal(first.body.result.code, '900.100.300', JSON.stringify(first.body));
    const found = await opp(a, 'GET', `/v1/query?merchantTransactionId=${mtx}`, {});
    assert.equal(found.body.payments?.length, 1, JSON.stringify(found.body));
    await reconcileOnA();
    const status = (await sql<{ status: string }>`select status from transactions where id = ${first.body.id}`.execute(a.app.storage.db)).rows[0]?.status;
    assert.equal(status, 'succeeded');
    assert.equal(calls.length - before, 1, 'charged once');
    await turnCOn();
  });

  test('/v1: a 3-D Secure payment whose node goes off right after recording it is answered 503; on a unique-reference entity the order can then never be paid', async () => {
    await turnCOn();
    const strict = await a.app.merchants.create({ name: 'Strict', uniqueMerchantTransactionId: true });
    const mtx = `mtx-${randomUUID()}`;
    // The node's clock is found off right after the unit of work that records the payment.
    const raw = c.app.storage.uow as { run: (fn: (tx: any) => Promise<unknown>, o?: unknown) => Promise<unknown> };
    const run = raw.run.bind(raw);
    let armed = true;
    raw.run = async (fn, o) => {
      const v = await run(fn, o);
      if (armed) {
        const rows = (await sql<{ id: string }>`select id from transactions where merchant_transaction_id = ${mtx}`.execute(a.app.storage.db)).rows;
        if (rows.length > 0) { armed = false; await turnCOff(); }
      }
      return v;
    };
    const params = { amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: mtx, ...testCard, 'card.number': '4200000000000042', shopperResultUrl: 'https://shop.example/back' };
    let first;
    try { first = await opp({ url: c.url, merchant: strict }, 'POST', '/v1/payments', params); } finally { raw.run = run; await turnCOn(); }
    assert.equal(armed, false, 'the payment was recorded, then the node went off');
    // As errors.md says: look the payment up by its merchantTransactionId first.
    const found = await opp({ url: a.url, merchant: strict }, 'GET', `/v1/query?merchantTransactionId=${mtx}`, {});
    const again = await opp({ url: a.url, merchant: strict }, 'POST', '/v1/payments', params);
    assert.ok(first.status !== 503 || again.body.redirect !== undefined,
      `answered ${first.status} ${first.body.result.code} for a payment it recorded (found: ${JSON.stringify(found.body.payments?.map((p: any) => [p.id, p.result.code, p.redirect]))}); the shopper can be sent nowhere: sent again, ${again.status} ${JSON.stringify(again.body.result)}`);
  });

  test('executions: a final capture whose node goes off after recording it and before releasing the rest is answered as made, and its key replays it', async () => {
    await turnCOn();
    const ref = `final-${randomUUID().slice(0, 8)}`;
    const id = await execution(a, token, ref);
    const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(a, token, '4111111111111111', ref), '50.00') });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    await a.app.payments.idle();
    const e = (await call(a, 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(['created', 'authorizeRequested']))}`, { token })).body;
    assert.equal(e.status, 'authorized', JSON.stringify(e.status));
    const paymentId = e.paymentComposition[0].paymentId as string;
    const ops = () => a.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
    const raw = c.app.storage.uow as { run: (fn: (tx: any) => Promise<unknown>, o?: unknown) => Promise<unknown> };
    const run = raw.run.bind(raw);
    let armed = true;
    raw.run = async (fn, o) => {
      const v = await run(fn, o);
      if (armed && (await ops()).some((x) => x.type === 'capture' && x.status === 'succeeded')) { armed = false; await turnCOff(); }
      return v;
    };
    const key = randomUUID();
    const body = { amount: { value: '20.00', currency: 'EUR' }, final: true };
    let first;
    try { first = await call(c, 'POST', `${wf}/${id}/capture`, { token, key, body }); } finally { raw.run = run; await turnCOn(); }
    assert.equal(armed, false, 'the capture was recorded, then the node went off');
    // The merchant sends it again under its key, to the other node.
    const again = await call(a, 'POST', `${wf}/${id}/capture`, { token, key, body });
    assert.equal(again.status, 202, JSON.stringify(again.body));
    await a.app.payments.idle();
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.deepEqual((await ops()).slice(0, 2).map((o) => [o.type, o.status, Number(o.amount)]),
      [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000]], 'captured once');
  });
});

