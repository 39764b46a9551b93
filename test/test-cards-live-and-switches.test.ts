/**
 * Test cards and switches where they mean nothing or are written otherwise: a live merchant's
 * payments never reach the simulated 3-D Secure (its table cards and switches are ordinary cards and
 * parameters there), and the challenge indicator `4`, as the platform's testing guide writes it, is
 * taken as `04`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const ret = 'https://shop.example/return';

test('a live merchant never reaches the simulated 3-D Secure: its table cards and switches mean nothing there (/v1)', async () => {
  const live = await gw.app.merchants.create({ name: 'Live Shop', live: true });
  const L = { url: gw.url, merchant: live };
  const livePay = (p: Record<string, string>) => opp(L, 'POST', '/v1/payments', { amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard, shopperResultUrl: ret, ...p });
  // docs/test-cards.md: "A live merchant's payments are never simulated: these numbers mean nothing there."
  // README: a live payment is never sent to a simulated acquirer; it is declined 900.100.100.
  const notEnrolled = await livePay({ 'card.number': '4012001037141112' });
  assert.equal(notEnrolled.body.result.code, '900.100.100', `the simulated issuer answered a live payment: ${JSON.stringify(notEnrolled.body.result)}`);
  const challenge = await livePay({ 'card.number': '4200000000000042' });
  assert.equal(challenge.body.redirect, undefined, `a live shopper is sent to the simulated challenge page ${challenge.body.redirect?.url}`);
  const switched = await livePay({ 'card.number': '4242424242424242', 'customParameters[3DS2_enrolled]': 'true' });
  assert.equal(switched.body.redirect, undefined, 'the test switch 3DS2_enrolled sends a live shopper to the simulated challenge page');
});

test('a live merchant never reaches the simulated 3-D Secure (executions)', async () => {
  const live = await gw.app.merchants.create({ name: 'Live Shop X', live: true });
  const L = { url: gw.url, merchant: live };
  const token = await tokenOf(L);
  const inst = await instrument(L, token, '4200000000000042', 'live-ch');
  const id = await execution(L, token, 'live-ch');
  assert.equal((await call(L, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
  const x = await poll(L, token, id, ['created', 'authorizeRequested']);
  assert.notEqual(x.status, 'authorizePending', `a live shopper is sent to the simulated challenge: ${x.requiredAction?.href}`);
});

test('threeDSecure.challengeIndicator=4 (the platform testing guide\'s value) forces a challenge instead of being refused', async () => {
  const r = await pay(gw, { 'card.number': '4200000000000091', 'threeDSecure.challengeIndicator': '4', shopperResultUrl: ret });
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body.result));
  const r04 = await pay(gw, { 'card.number': '4200000000000091', 'threeDSecure.challengeIndicator': '04', shopperResultUrl: ret });
  assert.equal(r04.body.result.code, '000.200.000');
});
