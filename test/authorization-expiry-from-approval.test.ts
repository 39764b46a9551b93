/**
 * An authorization expires a set time after it was made (SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS): the
 * issuer's hold runs from its approval. Behind a 3-D Secure challenge that is when the shopper
 * finished and the acquirer approved, not when the payment was asked for. The expiry job used to
 * count from the request, so such an authorization was voided early, by as long as the shopper took
 * over the challenge, while the merchant could still have captured it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';

const minute = 60_000;
const day = 86_400_000;

test('an authorization made after a 25-minute challenge is not voided 23h40 after it was made (expiry 1 day)', async () => {
  const clock = manualClock(Date.UTC(2026, 0, 5, 12));
  const gw = await startGateway({ clock, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '1' } });
  try {
    const r = await opp(gw, 'POST', '/v1/payments', {
      amount: '92.00', currency: 'EUR', paymentType: 'PA', ...testCard, 'card.number': '4200000000000042', shopperResultUrl: 'https://shop.example/return',
    });
    assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
    const page = await openRedirect(r.body.redirect);
    clock.advance(25 * minute);
    const back = await answer(page, 'completed');
    assert.equal(back.status, 303);
    await gw.app.payments.idle();
    const paid = await opp(gw, 'GET', `/v1/query/${r.body.id}`);
    assert.equal(paid.body.result.code, '000.100.110', JSON.stringify(paid.body.result));
    const approvedAt = clock.now();

    // 23 h 40 min after the authorization was made (one day and five minutes after the request).
    clock.advance(day - 20 * minute);
    const expired = await gw.app.payments.expireAuthorizations();
    await gw.app.payments.idle();
    assert.equal(expired, 0, `voided ${(clock.now() - approvedAt) / minute} minutes after the authorization was made; the expiry is ${day / minute}`);
    const cp = await opp(gw, 'POST', `/v1/payments/${r.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, '000.100.110', JSON.stringify(cp.body.result));
  } finally { await gw.close(); }
});
