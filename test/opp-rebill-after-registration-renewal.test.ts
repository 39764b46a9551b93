/**
 * A rebill (RB) of a payment made with a registration "charges that registration" (src/payments/
 * service.ts): once a later payment renewed the registration's expiry (the cardholder's reissued
 * card, acknowledged with a REGISTRATION UPDATED notification), the registration is chargeable,
 * yet an RB of the subscription's first payment is refused 100.100.303 for the card's old expiry
 * (or would be sent to the PSP with the stale expiry). Both stores.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';

const success = '000.100.110';
for (const store of ['sqlite', 'postgres'] as const) {
  describe(store, () => {
    const clock = manualClock(Date.UTC(2027, 4, 20, 12)); // 20 May 2027
    let gw: Gateway;
    before(async () => { gw = await startGateway({ store, clock }); });
    after(() => gw.close());

    test('RB of a registration payment after the registration was renewed charges the renewed card', async () => {
      const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, 'card.expiryMonth': '05', 'card.expiryYear': '2027' });
      assert.equal(reg.body.result.code, success);
      const first = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '20.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
      assert.equal(first.body.result.code, success);
      // The merchant learns the reissued card's expiry and sends it with the next charge: the registration is renewed.
      const renewed = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '1.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT', 'card.expiryMonth': '05', 'card.expiryYear': '2031' });
      assert.equal(renewed.body.result.code, success);
      clock.advance(20 * 86_400_000); // June 2027: the old expiry has passed, the registration's has not
      const viaRegistration = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
      assert.equal(viaRegistration.body.result.code, success, 'the registration itself is chargeable');
      const rb = await opp(gw, 'POST', `/v1/payments/${first.body.id}`, { paymentType: 'RB', amount: '5.00', currency: 'EUR' });
      assert.equal(rb.body.result.code, success, `RB of the registration's payment refused although the registration is valid: ${JSON.stringify(rb.body.result)}`);
    });
  });
}
