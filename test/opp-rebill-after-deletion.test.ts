/**
 * A rebill (RB) of a payment made with a registration charges that registration's card again: once
 * the merchant deleted the registration (a subscription cancelled, and the deletion acknowledged),
 * it is refused with 100.150.202, as every other way of charging a deleted registration is. A rebill
 * of a payment with a card of its own (no registration) is unaffected.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';

const success = '000.100.110';
let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const rebill = (id: string, amount: string) => opp(gw, 'POST', `/v1/payments/${id}`, { paymentType: 'RB', amount, currency: 'EUR' });
const attemptsOf = async (paymentId: string) => (await gw.app.storage.db.selectFrom('transactions').select('type').where('payment_id', '=', paymentId).execute()).length;

test('RB on a payment made with a registration is refused once the registration was deleted', async () => {
  const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard });
  const db = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '25.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
  assert.equal(db.body.result.code, success);
  assert.equal((await rebill(db.body.id, '25.00')).body.result.code, success, 'a rebill while the registration stands');
  assert.equal((await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`)).body.result.code, success);
  const before = await attemptsOf(db.body.id);
  const rb = await rebill(db.body.id, '25.00');
  assert.equal(rb.status, 400);
  assert.equal(rb.body.result.code, '100.150.202', JSON.stringify(rb.body.result));
  assert.equal(await attemptsOf(db.body.id), before, 'nothing recorded, nothing sent');
});

test('RB on a createRegistration payment is refused once that registration was deleted; a payment without one rebills as before', async () => {
  const first = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true' });
  assert.equal(first.body.result.code, success);
  await opp(gw, 'DELETE', `/v1/registrations/${first.body.registrationId}`);
  assert.equal((await rebill(first.body.id, '10.00')).body.result.code, '100.150.202');
  const plain = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB' });
  assert.equal((await rebill(plain.body.id, '10.00')).body.result.code, success);
});
