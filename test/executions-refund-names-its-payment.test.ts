/**
 * A refund's `paymentId` names the payment to give money back from. One that is not the execution's
 * payment is refused by name: it was ignored, and a refund naming another execution's payment (or
 * none that exists) gave back this execution's money.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let token: string;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '2000' } }); token = await tokenOf(gw); });
after(async () => { await gw?.close(); });

test('a refund naming a paymentId that is not the execution\'s payment is refused 400 naming paymentId; nothing is refunded', async () => {
  const a = await authorizedExecution(gw, token, 'holder-a', '4111111111111111', '100.00');
  const b = await authorizedExecution(gw, token, 'holder-b', '4242424242424242', '100.00');
  for (const x of [a, b]) {
    const cap = await call(gw, 'POST', `${wf}/${x.id}/capture`, { token, body: {} });
    assert.equal(cap.status, 202, JSON.stringify(cap.body));
    assert.equal((await poll(gw, token, x.id, ['captureRequested'])).status, 'captured');
  }
  for (const paymentId of [b.paymentId, 'not-a-payment']) {
    const r = await call(gw, 'POST', `${wf}/${a.id}/refund`, { token, body: { amount: { value: '10.00', currency: 'EUR' }, paymentId } });
    assert.equal(r.status, 400, `refund of execution A naming paymentId ${paymentId === b.paymentId ? "of execution B" : JSON.stringify(paymentId)} was answered ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.errors[0].code, 'request.param.invalid');
    assert.match(r.body.errors[0].detail, /^paymentId/);
  }
  const ea = (await call(gw, 'GET', `${wf}/${a.id}`, { token })).body;
  const eb = (await call(gw, 'GET', `${wf}/${b.id}`, { token })).body;
  assert.equal(ea.status, 'captured', `execution A: ${ea.status}, refunded ${JSON.stringify(ea.refundedAmount)}`);
  assert.equal(eb.status, 'captured');
  // The execution's own paymentId is taken.
  const ok = await call(gw, 'POST', `${wf}/${a.id}/refund`, { token, body: { amount: { value: '10.00', currency: 'EUR' }, paymentId: a.paymentId } });
  assert.equal(ok.status, 202, JSON.stringify(ok.body));
});
