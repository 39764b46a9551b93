/**
 * A capture its PSP keeps pending, asked about by a reconciler pass that began just before the
 * asynchronous timeout and whose status call returned just after it: the next pass past the
 * timeout ends it, as it ends every pending follow-up the PSP does not carry out later by itself.
 * It was held ten minutes more, taken for one that waits for its PSP's notification because the
 * touch of the earlier pass was dated after the timeout (seen in the chaos suite on a slow machine),
 * or, where the status call answered another pending code, by the record of that answer.
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
const pending = { kind: 'pending' as const, action: undefined, pspReference: 'PSP-CAPTURE-1', acquirerCode: '000.200.000', details: {} };
/** What the status calls answer: the pending code the capture holds, or another one. */
let lookupAnswer = pending;
let captureLookups = 0;
/** Approves authorizations; holds captures pending, each status call taking 20 ms of the clock. */
const processor: Connector = {
  name: 'slow-capture-psp',
  operations: simulated.operations,
  async execute(request) {
    if (request.operation === 'capture') return pending;
    return { kind: 'approved', pspReference: 'PSP-AUTH-1', acquirerCode: '000.100.110', details: {} };
  },
  async lookup(_attemptId, hint) {
    if (hint?.operation !== 'capture') return undefined;
    captureLookups++;
    clock.advance(20);
    return lookupAnswer;
  },
};

let gw: Gateway;
before(async () => {
  gw = await startGateway({ clock, processor, env: { SWITCHYARD_PSP_TIMEOUT_MS: '2000', SWITCHYARD_ASYNC_TIMEOUT_MS: '600000' } });
});
after(() => gw?.close());

for (const [answer, code] of [['the same pending code', '000.200.000'], ['another pending code', '000.200.100']] as const) {
  test(`a pending capture asked about across the timeout (${answer}) ends at the next pass, not ten minutes later`, async () => {
    lookupAnswer = { ...pending, acquirerCode: code };
    captureLookups = 0;
    const pa = await pay(gw, { paymentType: 'PA', amount: '30.00' });
    assert.match(pa.body.result.code, /^000\.100\.1/, JSON.stringify(pa.body.result));
    const capturedAt = clock.now();
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '30.00', currency: 'EUR' });
    assert.match(cp.body.result.code, /^000\.200/, JSON.stringify(cp.body.result));
    await gw.app.payments.idle();
    // A pass that starts 10 ms before the timeout; its status call returns 10 ms after it.
    clock.advance(capturedAt + gw.app.config.asyncTimeoutMs - 10 - clock.now());
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    assert.equal(captureLookups, 1, 'asked once, before the timeout');
    const status = async () => (await gw.app.storage.db.selectFrom('transactions').select('status').where('id', '=', cp.body.id as string).executeTakeFirstOrThrow()).status;
    assert.equal(await status(), 'pending', 'within the timeout when asked, it stays pending');
    // The next pass, a minute later.
    clock.advance(60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    assert.notEqual(await status(), 'pending', 'past the timeout, the pending capture ended');
    const v = await checkInvariants(gw.app.storage.db, { inFlightMaxAgeMs: 0, now: clock.now() });
    assert.deepEqual(v, [], describeViolations(v));
  });
}
