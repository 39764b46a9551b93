/**
 * A capture sent `final: false` leaves the rest of the authorization open for further captures, up
 * to the authorized amount; refunds may follow each capture; a cancel voids what is not captured. A
 * merchant who ships in parts and refunds a returned item must still be able to capture (or release)
 * the rest, and the execution's links say so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, poll, tokenOf, wf } from './support/executions.ts';

const day = 86_400_000;
const clock = manualClock(Date.UTC(2026, 0, 5, 12));
let gw: Gateway; let token: string;
before(async () => { gw = await startGateway({ clock, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '7', SWITCHYARD_LONG_POLL_MS: '1500' } }); token = await tokenOf(gw); });
after(() => gw.close());

const eur = (value: string) => ({ value, currency: 'EUR' });

test('after a non-final partial capture and a partial refund, the rest of the authorization can still be captured', async () => {
  const { id } = await authorizedExecution(gw, token, 'pc-1', '4111111111111111', '100.00');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00'), final: false } })).status, 202);
  assert.equal((await poll(gw, token, id, ['captureRequested'])).status, 'partiallyCaptured');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('20.00') } })).status, 202);
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(e.capturedAmount.value, '50.00');
  // 50.00 of the 100.00 authorization is still open and final was false.
  const r = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('30.00') } });
  assert.equal(r.status, 202, `second partial capture refused: ${JSON.stringify(r.body)} (status ${e.status}, links ${Object.keys(e.links)})`);
});

test('after a non-final partial capture is fully refunded, the uncaptured rest can still be captured or released', async () => {
  const { id } = await authorizedExecution(gw, token, 'pc-2', '4111111111111111', '100.00');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00'), final: false } })).status, 202);
  assert.equal((await poll(gw, token, id, ['captureRequested'])).status, 'partiallyCaptured');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('50.00') } })).status, 202);
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  // 50.00 is still reserved on the shopper's card: the merchant must be able to void it (cancel) or capture it.
  const cancel = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  const capture = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00') } });
  assert.ok(cancel.status === 202 || capture.status === 202,
    `the open 50.00 can be neither released nor captured: status ${e.status}, authorized ${e.authorizedAmount.value}, captured ${e.capturedAmount.value}, refunded ${e.refundedAmount.value}; cancel ${cancel.status} ${cancel.body.errors?.[0]?.detail}; capture ${capture.status}`);
});

test('a capture refunded in full after a final capture offers no capture or cancel: nothing is left open', async () => {
  const { id } = await authorizedExecution(gw, token, 'pc-3', '4111111111111111', '100.00');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00'), final: true } })).status, 202);
  assert.equal((await poll(gw, token, id, ['captureRequested'])).status, 'captured');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('50.00') } })).status, 202);
  const e = await poll(gw, token, id, ['captured']);
  assert.equal(e.status, 'refunded');
  const links = Object.keys(e.links);
  assert.ok(!links.includes('capture') && !links.includes('cancel'), `links ${links}`);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('10.00') } })).status, 422);
});

test('after the expiry job released the rest of a refunded execution, its links offer no capture or cancel the engine refuses', async () => {
  const { id } = await authorizedExecution(gw, token, 'pc-4', '4111111111111111', '100.00');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00'), final: false } })).status, 202);
  assert.equal((await poll(gw, token, id, ['captureRequested'])).status, 'partiallyCaptured');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('50.00') } })).status, 202);
  clock.advance(8 * day);
  token = await tokenOf(gw);
  assert.ok((await gw.app.jobs.runDue()).some((r) => r.name === 'expire-authorizations'));
  await gw.app.payments.idle();
  const links = Object.keys((await call(gw, 'GET', `${wf}/${id}`, { token })).body.links);
  const capture = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00') } });
  const cancel = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  const report = `links [${links}], capture ${capture.status} ${JSON.stringify(capture.body?.errors?.[0])}, cancel ${cancel.status} ${JSON.stringify(cancel.body?.errors?.[0])}`;
  assert.ok(capture.status < 500 && cancel.status < 500, report);
  assert.ok(!links.includes('capture') && !links.includes('cancel'), `links offer what the engine refuses: ${report}`);
});
