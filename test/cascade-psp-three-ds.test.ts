/**
 * 3-D Secure and the cascade: what a cascade does with a PSP that runs 3-D Secure itself.
 * A tiny Adyen (Checkout API v71 wire format) whose answers the test chooses stands in for a PSP
 * that challenges and then declines softly, or declines softly at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { adyenFakeCredentials, startScriptedAdyen } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { fetchPage } from './support/shopper.ts';


async function hop(url: string, init: RequestInit = {}) {
  const r = await fetchPage(url, init);
  return { status: r.status, location: r.headers.get('location') ?? undefined, text: await r.text() };
}

let adyen: Awaited<ReturnType<typeof startScriptedAdyen>>;
let stripe: StripeFake;
let gw: Gateway;
let token: string;
before(async () => {
  [adyen, stripe] = await Promise.all([startScriptedAdyen('soft'), startStripeFake()]);
  gw = await startGateway();
  token = await tokenOf(gw);
});
after(async () => { await gw?.close(); await Promise.all([adyen?.close(), stripe?.close()]); });

describe('a cascade whose first PSP runs 3-D Secure itself', () => {
  test('a challenge-enrolled card soft-declined at the 3-D Secure PSP is not charged unauthenticated at the next (simulated) PSP', async () => {
    adyen.state.mode = 'soft';
    await configureCascade(gw, { adyen3ds: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } }, sim: {} }, ['adyen3ds', 'sim'], ['soft', 'error']);
    // 4200000000000042: the simulated issuer asks for a challenge (docs/test-cards.md).
    const r = await opp(gw, 'POST', '/v1/payments', {
      amount: '40.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': '4200000000000042',
      'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
    });
    const d = (await gw.app.payments.details(r.body.id))!;
    const attempts = d.attempts.map((a) => ({ account: a.accountName, status: a.status, authenticated: a.authenticated }));
    const approvedUnauthenticated = attempts.some((a) => a.account === 'sim' && a.status === 'succeeded' && !a.authenticated);
    assert.ok(!approvedUnauthenticated,
      `a card the issuer wants challenged was authorized at a PSP that runs no 3-D Secure, without any authentication: ${r.body.result?.code} ${JSON.stringify(attempts)}`);
  });

  test('executions: after the first PSP\'s challenge and its soft decline, the next PSP\'s challenge is the one the shopper and requiredAction go to', async () => {
    adyen.state.mode = 'challenge';
    await configureCascade(gw, {
      adyen3ds: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } },
      stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } },
    }, ['adyen3ds', 'stripe'], ['soft', 'error']);
    const inst = await instrument(gw, token, suiteCards.challenge, 'c-two-challenges');
    const id = await execution(gw, token, 'c-two-challenges');
    const body = { ...authorizeBody(inst, '50.00'), returnInfo: { success: 'https://shop.example/ok', cancel: 'https://shop.example/cancel', error: 'https://shop.example/error' } };
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body })).status, 200);
    const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(e.status, 'authorizePending', JSON.stringify(e.statusHistory));
    const firstHref: string = e.requiredAction.href;
    // The shopper goes through the first PSP's challenge and comes back to our return endpoint.
    assert.equal((await hop(firstHref)).status, 303);
    const returnUrl = adyen.state.returnUrls.at(-1)!;
    const back = await hop(`${returnUrl}?redirectResult=passed`);
    assert.equal(back.status, 303);
    // Adyen refused softly: the cascade moved on to Stripe, which asks for its own challenge.
    const d = (await gw.app.payments.details((await call(gw, 'GET', `${wf}/${id}`, { token })).body.paymentComposition[0].paymentId))!;
    assert.deepEqual(d.attempts.map((a) => [a.accountName, a.status]), [['adyen3ds', 'failed'], ['stripe', 'pending']]);
    assert.equal(d.operations[0]!.status, 'awaiting');
    const now = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    // The merchant must be shown the open challenge, and the shopper sent to it: not the used one.
    assert.ok(now.requiredAction, `no requiredAction while the payment awaits the shopper at Stripe: ${JSON.stringify(now)}`);
    const page = await hop(now.requiredAction.href);
    assert.equal(page.status, 303, `requiredAction.href is ${now.requiredAction.href === firstHref ? 'the first, used challenge' : 'another page'}: ${page.status}`);
    assert.ok(page.location?.startsWith(`${stripe.url}/3ds/`), String(page.location));
    assert.notEqual(back.location, 'https://shop.example/ok', 'the shopper was sent to the shop while the payment awaits them at the next PSP');
  });
});
