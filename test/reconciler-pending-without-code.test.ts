/**
 * An operation its PSP keeps pending, whose attempt holds no pending answer of the PSP's own (the
 * answer carried no code, or a crash mid-call lost it and the reconciler found it pending at the
 * PSP): it ends once it has been pending longer than any shopper or bank may take, as one with a
 * coded pending answer does, instead of being asked about on every pass for ever.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import type { Connector } from '../src/processors/connector.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

const clock = manualClock(Date.now());
const simulated = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
let lookups = 0;
/** A PSP that takes every authorization and keeps it pending, saying so without a code of its own. */
const stillPending = { kind: 'pending' as const, action: undefined, pspReference: 'PSP-PENDING-1', acquirerCode: undefined, details: {} };
const processor: Connector = {
  name: 'pending-psp',
  operations: simulated.operations,
  async execute() { return stillPending; },
  async lookup() { lookups++; return stillPending; },
};

let gw: Gateway;
before(async () => {
  gw = await startGateway({ clock, processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '2000', SWITCHYARD_ASYNC_TIMEOUT_MS: '600000' } });
});
after(() => gw?.close());

test('an authorization pending at its PSP without a code expires after the asynchronous timeout', async () => {
  const r = await pay(gw, { paymentType: 'PA', amount: '30.00' });
  const id = r.body.id as string;
  assert.match(r.body.result.code, /^000\.200/, JSON.stringify(r.body.result));
  clock.advance(10_000);
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  assert.ok(lookups >= 1, 'asked of the PSP');
  assert.match((await opp(gw, 'GET', `/v1/query/${id}`)).body.result.code, /^000\.200/, 'still pending within the timeout');
  clock.advance(gw.app.config.asyncTimeoutMs);
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  const q = await opp(gw, 'GET', `/v1/query/${id}`);
  assert.equal(q.body.result.code, '100.396.103', 'pending past the timeout, it ended');
  const v = await checkInvariants(gw.app.storage.db, { inFlightMaxAgeMs: 0 });
  assert.deepEqual(v, [], describeViolations(v));
});

test('a pending answer without a code is asked about on the backoff and announced once, not on every reconciler pass', async () => {
  const r = await pay(gw, { paymentType: 'PA', amount: '30.00' });
  const id = r.body.id as string;
  const before = lookups;
  for (let i = 0; i < 10; i++) {
    clock.advance(10_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
  }
  const events = await gw.app.storage.db.selectFrom('outbox').select(['type']).where('subject_id', '=', id).execute();
  const pendings = events.filter((e) => e.type === 'operation.pending').length;
  // Backoff: at least twice the PSP timeout (2 s here) and a quarter of the operation's age, so
  // passes 10 s apart skip one in two once it is older than 40 s.
  assert.ok(lookups - before <= 7, `asked ${lookups - before} times in 10 passes 10 s apart`);
  assert.equal(pendings, 1, `operation.pending events for one pending payment: ${JSON.stringify(events)}`);
});
