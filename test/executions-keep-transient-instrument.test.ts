/**
 * `paymentComposition[0].storeInstrument: true` with an instrument named by its id keeps a
 * transient instrument as a saved one: the authorization does not spend it and later ones can
 * charge it. Without it the transient one is spent.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

async function transientInstrument(token: string, holderReference: string): Promise<string> {
  const r = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference, paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737' } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.status, 'transient');
  return r.body.id;
}

async function authorize(token: string, holder: string, instrumentId: string, storeInstrument: boolean) {
  const id = await execution(gw, token, holder);
  const body = authorizeBody(instrumentId, '10.00');
  body.paymentComposition[0]!.storeInstrument = storeInstrument;
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body });
  return { ack, id };
}

test('a transient instrument authorized with storeInstrument true is kept: enabled, and charged again', async () => {
  const token = await tokenOf(gw);
  const instrumentId = await transientInstrument(token, 'keeper');
  const first = await authorize(token, 'keeper', instrumentId, true);
  assert.equal(first.ack.status, 200, JSON.stringify(first.ack.body));
  assert.equal((await poll(gw, token, first.id, ['created', 'authorizeRequested'])).status, 'authorized');
  assert.equal((await call(gw, 'GET', `/payment/instruments/${instrumentId}`, { token })).body.status, 'enabled');
  const second = await authorize(token, 'keeper', instrumentId, false);
  assert.equal(second.ack.status, 200, JSON.stringify(second.ack.body));
  assert.equal((await poll(gw, token, second.id, ['created', 'authorizeRequested'])).status, 'authorized');
  assert.equal((await call(gw, 'GET', `/payment/instruments/${instrumentId}`, { token })).body.status, 'enabled', 'a saved one stays saved');
});

test('without storeInstrument the transient instrument is spent by its authorization', async () => {
  const token = await tokenOf(gw);
  const instrumentId = await transientInstrument(token, 'spender');
  const first = await authorize(token, 'spender', instrumentId, false);
  assert.equal(first.ack.status, 200, JSON.stringify(first.ack.body));
  assert.equal((await call(gw, 'GET', `/payment/instruments/${instrumentId}`, { token })).body.status, 'deleted');
  const again = await authorize(token, 'spender', instrumentId, true);
  assert.equal(again.ack.status, 400, JSON.stringify(again.ack.body));
  assert.match(again.ack.body.errors[0].detail, /^paymentComposition\[0\]\.paymentInstrumentId: no such instrument/);
});
