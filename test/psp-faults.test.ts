import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';

const clock = manualClock(Date.now());
let gw: Gateway;
let silent = true;
const acquirer = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 1, errorRate: 0 });
// Lets one test switch the PSP between losing every answer and answering normally.
const processor = {
  name: 'switchable',
  operations: acquirer.operations,
  execute: (req: Parameters<typeof acquirer.execute>[0]) =>
    silent ? acquirer.execute(req) : createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 }).execute(req),
  lookup: (id: string) => acquirer.lookup(id),
};

before(async () => { gw = await startGateway({ clock, processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '150' } }); });
after(() => gw.close());

test('a PSP that does not answer in time leaves the attempt unknown and the merchant gets 900.100.300', async () => {
  silent = true;
  const r = await pay(gw, { paymentType: 'PA' });
  assert.equal(r.status, 400);
  assert.equal(r.body.result.code, '900.100.300');
  assert.equal(r.body.result.description, 'timeout, uncertain result');
  const id = r.body.id;
  assert.match(id, /^[0-9a-f]{32}$/);
  const row = await gw.app.storage.db.selectFrom('transactions').select(['status', 'result_code', 'unknown_since']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.deepEqual({ ...row, unknown_since: row.unknown_since !== null }, { status: 'unknown', result_code: null, unknown_since: true });
  // While the outcome is unknown, nothing may reference it.
  const cp = await opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
  assert.equal(cp.body.result.code, '700.400.570');
  assert.equal(acquirer.received.size, 1, 'the PSP saw exactly one attempt');

  // The reconciler asks the PSP, which did process it: the payment becomes authorized, no second charge.
  clock.advance(1000);
  assert.equal(await gw.app.payments.reconcile(), 1);
  const status = await opp(gw, 'GET', `/v1/query/${id}`);
  assert.equal(status.body.result.code, '000.100.110');
  assert.equal(acquirer.received.size, 1);
  silent = false;
  const cp2 = await opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
  assert.equal(cp2.body.result.code, '000.100.110');
});

test('an attempt the PSP never received is settled as failed by the reconciler', async () => {
  silent = true;
  const r = await pay(gw);
  const id = r.body.id;
  // The answer was lost and the PSP forgets it ever saw the attempt (it never arrived there).
  (acquirer.received as Map<string, unknown>).delete(id);
  const realLookup = processor.lookup;
  processor.lookup = async () => undefined;
  try {
    clock.advance(1000);
    assert.equal(await gw.app.payments.reconcile(), 1);
  } finally {
    processor.lookup = realLookup;
  }
  const status = await opp(gw, 'GET', `/v1/query/${id}`);
  assert.equal(status.body.result.code, '900.100.400');
  assert.equal(status.status, 200);
});

test('a communication error from the PSP is a definite decline', async () => {
  const failing = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 1 });
  const g2 = await startGateway({ processor: failing });
  try {
    const r = await pay(g2);
    assert.equal(r.status, 400);
    assert.equal(r.body.result.code, '900.100.100');
    assert.equal(r.body.result.description, 'unexpected communication error with connector/acquirer');
  } finally {
    await g2.close();
  }
});

test('the reconciler never decides an attempt whose PSP call is still running', async () => {
  const slowClock = manualClock(Date.now());
  const slow = createSimulatedAcquirer({ latencyMs: 300, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const g3 = await startGateway({ clock: slowClock, processor: slow, env: { SWITCHYARD_PSP_TIMEOUT_MS: '5000' } });
  try {
    const paying = pay(g3);
    await new Promise((r) => setTimeout(r, 100));
    slowClock.advance(60_000);
    assert.equal(await g3.app.payments.reconcile(), 0, 'the in-flight attempt is left to its caller');
    const r = await paying;
    assert.equal(r.body.result.code, '000.100.110');
    assert.equal(slow.received.size, 1);
  } finally {
    await g3.close();
  }
});
