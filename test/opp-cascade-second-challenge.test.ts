/**
 * /v1 dialect: a cascade whose first PSP runs its own 3-D Secure, soft-declines after the shopper's
 * challenge, and whose next PSP asks for a challenge of its own: the shopper is sent on to that
 * challenge, not back to the shop while the payment awaits them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { startScriptedAdyen } from './support/fake-psps/scripted-adyen.ts';

const scriptedAdyen = () => startScriptedAdyen(() => ({ pspReference: `ADY${Date.now()}`, resultCode: 'Refused', refusalReason: 'Refused', refusalReasonCode: '2' }));

let adyen: Awaited<ReturnType<typeof scriptedAdyen>>;
let stripe: StripeFake;
let gw: Gateway;
before(async () => { [adyen, stripe] = await Promise.all([scriptedAdyen(), startStripeFake()]); gw = await startGateway(); });
after(async () => { await gw?.close(); await Promise.all([adyen?.close(), stripe?.close()]); });

test('/v1: after the first PSP\'s challenge and soft decline, the shopper is sent to the next PSP\'s challenge, not back to the shop with the payment still pending', async () => {
  await configureCascade(gw, {
    adyen3ds: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } },
    stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } },
  }, ['adyen3ds', 'stripe'], ['soft', 'error']);
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '50.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA', 'card.number': '4000000000003220',
    'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
  });
  assert.ok(r.body.redirect?.url, JSON.stringify(r.body));
  const returnUrl = adyen.state.returnUrls.at(-1)!;
  const back = await fetch(`${returnUrl}?redirectResult=passed`, { redirect: 'manual' });
  const location = back.headers.get('location') ?? '';
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.deepEqual(d.attempts.map((a) => [a.accountName, a.status]), [['adyen3ds', 'failed'], ['stripe', 'pending']]);
  assert.equal(d.operations[0]!.status, 'awaiting');
  const status = await opp(gw, 'GET', `/v1/payments/${r.body.id}`, {});
  assert.ok(!location.startsWith('https://shop.example/back'),
    `the shopper was sent back to the shop (${back.status} ${location}) while the payment awaits them at Stripe's challenge; the shop reads ${status.body.result?.code} ${status.body.result?.description} redirect=${JSON.stringify(status.body.redirect)}`);
  // The gateway's page for that challenge forwards the shopper to Stripe's own.
  const forward = await fetch(new URL(location, gw.url), { redirect: 'manual' });
  assert.equal(forward.status, 303);
  assert.ok(forward.headers.get('location')?.startsWith(`${stripe.url}/3ds/`), String(forward.headers.get('location')));
});
