/**
 * A cascade of two PSPs that each run 3-D Secure themselves (a scripted Adyen that challenges and
 * then declines softly, then Stripe), and a `/v1` PA of a challenge card through it, waiting for
 * its shopper at Adyen: what tests of a shopper coming back late, or twice, start from.
 */
import assert from 'node:assert/strict';
import { opp, type Gateway } from './harness.ts';
import { configureCascade } from './executions.ts';
import { suiteCards } from './fake-psps/bank.ts';
import { adyenFakeCredentials } from './fake-psps/adyen.ts';
import { stripeFakeCredentials } from './fake-psps/stripe.ts';

/** One step of a browser: the answer's status and where it sends the shopper. */
export async function hop(url: string): Promise<{ status: number; location: string | undefined }> {
  const r = await fetch(url, { redirect: 'manual' });
  await r.text();
  return { status: r.status, location: r.headers.get('location') ?? undefined };
}

/** Configures the cascade (Adyen at `adyenUrl`, then Stripe at `stripeUrl`) and pays; the payment's id. */
export async function challengedAtAdyenThenStripe(gw: Gateway, adyenUrl: string, stripeUrl: string): Promise<string> {
  await configureCascade(gw, {
    adyen3ds: { connector: 'adyen', settings: { baseUrl: adyenUrl, ...adyenFakeCredentials } },
    stripe: { connector: 'stripe', settings: { baseUrl: stripeUrl, ...stripeFakeCredentials } },
  }, ['adyen3ds', 'stripe'], ['soft', 'error']);
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '50.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': suiteCards.challenge,
    'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
  });
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  return r.body.id as string;
}
