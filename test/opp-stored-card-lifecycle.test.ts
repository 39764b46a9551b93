/**
 * A stored card over time: a rebill of a card past its expiry is refused as any charge of it is
 * (100.100.303), and a registration deleted while its payment waited at the 3-D Secure challenge is
 * not charged once the shopper completes it (100.150.202), as a payment on its way when the
 * deletion was acknowledged never is. `/v1/payments` takes a `registrationId` in place of card data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';

const clock = manualClock(Date.UTC(2027, 4, 20, 12)); // 20 May 2027
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());

test('a rebill (RB) after the stored card expired is refused like every other charge of an expired stored card', async () => {
  const card = { ...testCard, 'card.expiryMonth': '05', 'card.expiryYear': '2027' };
  const db = await opp(gw, 'POST', '/v1/payments', { ...card, amount: '20.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true' });
  assert.equal(db.body.result.code, '000.100.110', JSON.stringify(db.body));
  assert.equal((await opp(gw, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RB', amount: '5.00', currency: 'EUR' })).body.result.code, '000.100.110', 'valid through May');
  clock.advance(20 * 86_400_000); // 9 June 2027: the card (valid through May) has expired
  const viaRegistration = await opp(gw, 'POST', `/v1/registrations/${db.body.registrationId}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
  assert.equal(viaRegistration.body.result.code, '100.100.303');
  const rb = await opp(gw, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RB', amount: '5.00', currency: 'EUR' });
  assert.equal(rb.status, 400);
  assert.equal(rb.body.result.code, '100.100.303', JSON.stringify(rb.body.result));
  const rows = await gw.app.storage.db.selectFrom('transactions').select('type').where('payment_id', '=', db.body.id).execute();
  assert.deepEqual(rows.map((r) => r.type).sort(), ['rebill', 'sale'], 'nothing recorded for the refused rebill');
});

test('a registration deleted while a payment with it waits for its 3-D Secure challenge is not charged afterwards', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, 'card.number': '4200000000000042' });
  const p = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '15.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/return' });
  assert.equal(p.body.result.code, '000.200.000', 'pending: the shopper is at the challenge');
  const del = await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
  assert.equal(del.body.result.code, '000.100.110', 'the delete is acknowledged');
  await gw.app.payments.completeChallenge(p.body.id, 'completed');
  const after = await opp(gw, 'GET', `/v1/query/${p.body.id}`);
  assert.equal(after.body.result.code, '100.150.202', 'the deregistered card was charged after the delete was acknowledged');
  const attempts = await gw.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', p.body.id).execute();
  assert.equal(attempts.length, 0, 'no PSP was asked');
});

test('POST /v1/payments with registrationId (no card data) pays with the registration, as /v1/registrations/{id}/payments does', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
  assert.equal(reg.status, 200);
  const r = await opp(gw, 'POST', '/v1/payments', { amount: '15.00', currency: 'EUR', paymentType: 'DB', registrationId: reg.body.id });
  assert.equal(r.body.result.code, '000.100.110', JSON.stringify(r.body.result));
  assert.equal(r.body.registrationId, reg.body.id);
  assert.equal(r.body.card.last4Digits, testCard['card.number'].slice(-4));
  const unknown = await opp(gw, 'POST', '/v1/payments', { amount: '15.00', currency: 'EUR', paymentType: 'DB', registrationId: 'f'.repeat(32) });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.result.code, '100.150.200', JSON.stringify(unknown.body.result));
});
