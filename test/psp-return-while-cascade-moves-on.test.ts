/**
 * Adyen's soft-decline notification moves the cascade on to Stripe while the shopper's return is at
 * /payments/details, and Stripe takes a moment to answer: the return, finding its attempt ended
 * already, sends the shopper where the cascade's step leads (Stripe's challenge), not to the shop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './support/harness.ts';
import { startStripeFake } from './support/fake-psps/stripe.ts';
import { startScriptedAdyen } from './support/fake-psps/adyen.ts';
import { challengedAtAdyenThenStripe, hop } from './support/three-ds-cascade.ts';
import { pspProxy } from './support/psp-proxy.ts';

test('the return answered while the notification\'s cascade is still at Stripe: the shopper is sent to Stripe\'s challenge, not to the shop with the payment waiting for them there', async () => {
  const [adyen, stripe] = await Promise.all([startScriptedAdyen('challenge', 'soft'), startStripeFake()]);
  const adyenProxy = await pspProxy(adyen.url, (c) => (c.url === '/payments/details' ? { delayMs: 300 } : {}));
  let created = 0;
  // The first PaymentIntent is never asked for here (Adyen is first); the cascade's is slowed down.
  const stripeProxy = await pspProxy(stripe.url, (c) => (c.method === 'POST' && c.url.startsWith('/v1/payment_intents') && ++created === 1 ? { delayMs: 1200 } : {}));
  const gw = await startGateway();
  try {
    const id = await challengedAtAdyenThenStripe(gw, adyenProxy.url, stripeProxy.url);
    const first = (await gw.app.payments.details(id))!.attempts[0]!;
    const returning = hop(`${adyen.state.returnUrls.at(-1)!}?redirectResult=passed`);
    while (!adyenProxy.calls.some((c) => c.url === '/payments/details')) await new Promise((res) => setTimeout(res, 10));
    // Adyen's AUTHORISATION notification (success=false) while the details call is under way.
    assert.equal(await gw.app.payments.settleFromPsp(first.accountId, first.id,
      { kind: 'declined', reason: 'soft', acquirerCode: '2', message: 'Refused', pspReference: 'ADYNO2', details: {} }), true);
    const back = await returning;
    await gw.app.payments.idle();
    const opened = await gw.app.threeds.openOf('payment', id);
    const d = (await gw.app.payments.details(id))!;
    assert.deepEqual(d.attempts.map((a) => [a.accountName, a.status]), [['adyen3ds', 'failed'], ['stripe', 'pending']]);
    assert.equal(d.operations[0]!.status, 'awaiting', 'the payment awaits the shopper at Stripe');
    assert.ok(opened?.pspRedirect, 'Stripe\'s challenge is open');
    assert.equal(back.location, `/hosted/3ds/${opened!.id}`,
      `the shopper was sent to ${back.location} while the payment awaits them at Stripe's challenge (which expires with them never there)`);
  } finally { await gw.close(); await adyenProxy.close(); await stripeProxy.close(); await Promise.all([adyen.close(), stripe.close()]); }
});
