/**
 * A `/v1` registration belongs to the entity (channel) that made it: only that entity pays with it,
 * reads it or deletes it, and its end is told by a `registration.deleted` notification. The
 * executions dialect, which has no entities, does not see one among its instruments: an execution
 * without a holder could authorize with a registration's id (a merchant-initiated charge on a card
 * stored through another channel), read it, and delete it with no notification to the entity.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Currency } from '../src/money/money.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { call, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw.close(); });

test('a /v1 registration is no instrument of the executions dialect: not read, not charged, not deleted', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
  assert.match(reg.body.result.code, /^000\.(000|100)\./, JSON.stringify(reg.body.result));
  const token = await tokenOf(gw);

  const read = await call(gw, 'GET', `/payment/instruments/${reg.body.id}`, { token });
  assert.equal(read.status, 404, `read: ${JSON.stringify(read.body)}`);

  // An execution with no holder (the registration's own holder is none).
  const created = await call(gw, 'POST', wf, { token, body: { merchantReference: 'order-reg', workspaceId: gw.merchant.workspaceId, meta: {} } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const authorize = await call(gw, 'POST', `${wf}/${created.body.id}/authorize`, {
    token, body: {
      amount: { value: '50.00', currency: 'EUR' }, returnInfo: { success: 'https://shop.example/return' },
      paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: { value: '50.00', currency: 'EUR' }, paymentInstrumentId: reg.body.id }],
    },
  });
  assert.notEqual(authorize.status, 200, `authorized with a /v1 registration: ${JSON.stringify(authorize.body)}`);
  assert.equal((await call(gw, 'GET', `${wf}/${created.body.id}`, { token })).body.status, 'created', 'nothing was authorized');

  const deleted = await call(gw, 'DELETE', `/payment/instruments/${reg.body.id}`, { token });
  assert.equal(deleted.status, 404, `delete: ${JSON.stringify(deleted.body)}`);

  // The registration is still the entity's, and pays.
  const paid = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB' });
  assert.match(paid.body.result.code, /^000\.(000|100)\./, JSON.stringify(paid.body.result));
});

test('the executions service itself does not charge a /v1 registration, whatever shape its id has on the wire', async () => {
  // The dialect's own check of an instrument id's format (a UUID; a registration's is 32 hex digits)
  // turns such a request away first: the rule is the service's, not an accident of two id formats.
  const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
  const token = await tokenOf(gw);
  const created = await call(gw, 'POST', wf, { token, body: { merchantReference: 'order-reg-2', workspaceId: gw.merchant.workspaceId, meta: {} } });
  const id: string = created.body.id;
  const merchant = await gw.app.merchants.byId(gw.merchant.merchantId);
  const r = await gw.app.executions.authorize(merchant!, 'payment-acceptance', id, {
    amount: { amount: 5000, currency: 'EUR' as Currency }, returnInfo: { success: 'https://shop.example/return' }, paymentMethodCode: 'card', instrumentId: reg.body.id, baseUrl: gw.url,
  });
  assert.deepEqual(r, { ok: false, error: 'instrument_not_found' });
  assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'created', 'nothing was authorized');
});
