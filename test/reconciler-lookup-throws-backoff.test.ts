/**
 * A PSP that answered "pending", or whose answer was lost, and whose status API then throws (refused, down, a status it does
 * not know) is asked again on the reconciler's backoff, as a lookup answering "pending" is (a
 * quarter of the operation's age, at least twice the PSP timeout). A throwing lookup touched
 * nothing, so the operation was asked about on every pass, hammering a PSP already failing and
 * writing an error line per payment per pass.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import type { Connector } from '../src/processors/connector.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';

const clock = manualClock(Date.now());
const simulated = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
let lookups = 0;
const processor: Connector = {
  name: 'pending-then-throws',
  operations: simulated.operations,
  async execute(req) {
    // An amount of 40.00 loses the answer: the attempt is unknown.
    if (req.amount.amount === 4000) throw new Error('connection reset');
    return { kind: 'pending', action: undefined, pspReference: `PSP-${req.attemptId}`, acquirerCode: '000.200.000', details: {} };
  },
  async lookup() { lookups++; throw new Error('status API answered HTTP 429'); },
};

let gw: Gateway;
before(async () => {
  gw = await startGateway({ clock, processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '2000', SWITCHYARD_ASYNC_TIMEOUT_MS: '600000' } });
});
after(() => gw?.close());

test('a pending operation whose PSP lookup throws is asked again on the backoff, not on every reconciler pass', async () => {
  const r = await pay(gw, { paymentType: 'PA', amount: '30.00' });
  const id = r.body.id as string;
  assert.match(r.body.result.code, /^000\.200/, JSON.stringify(r.body.result));
  const before = lookups;
  for (let i = 0; i < 10; i++) {
    clock.advance(10_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
  }
  assert.match((await opp(gw, 'GET', `/v1/query/${id}`)).body.result.code, /^000\.200/, 'still pending within the timeout');
  // Passes 10 s apart: once older than 40 s, the backoff (a quarter of its age) skips one in two,
  // as it does for the same payment whose lookup answers "pending".
  assert.ok(lookups - before <= 7, `asked ${lookups - before} times in 10 passes 10 s apart`);
});

test('an unknown operation whose PSP lookup throws is asked at once, then on the backoff', async () => {
  // Past the asynchronous timeout: the first test's pending payment has ended and is asked no more.
  for (let i = 0; i < 3; i++) { clock.advance(300_000); await gw.app.payments.reconcile(); }
  const u = await pay(gw, { paymentType: 'PA', amount: '40.00' });
  assert.equal(u.body.result.code, '900.100.300', JSON.stringify(u.body.result));
  const start = lookups;
  clock.advance(5_000);
  await gw.app.payments.reconcile();
  assert.equal(lookups - start, 1, 'a lost answer is asked about on the first pass past twice the PSP timeout');
  for (let i = 0; i < 10; i++) {
    clock.advance(10_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
  }
  assert.equal((await opp(gw, 'GET', `/v1/query/${u.body.id as string}`)).body.result.code, '900.100.300', 'still unknown');
  assert.ok(lookups - start <= 7, `asked ${lookups - start} times in 11 passes 10 s apart`);
});
