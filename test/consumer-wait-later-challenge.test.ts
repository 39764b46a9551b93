/**
 * The shopper's wait page (consumerWait) is held until the shopper has a step to take. After the
 * first PSP's challenge and its soft decline, the cascade's next PSP may ask for a challenge of its
 * own; the execution stays `authorizePending` throughout, and the wait, held while the status stayed
 * as it was, sat out its whole hold before sending the shopper to that challenge.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { adyenFakeCredentials, startScriptedAdyen } from './support/fake-psps/adyen.ts';
import { pspProxy, type PspProxy } from './support/psp-proxy.ts';
import { shopperStepOf } from '../src/executions/model.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

let adyen: Awaited<ReturnType<typeof startScriptedAdyen>>;
let stripe: StripeFake;
let slowStripe: PspProxy;
let gw: Gateway;
let token: string;
before(async () => {
  [adyen, stripe] = await Promise.all([startScriptedAdyen('challenge'), startStripeFake()]);
  // Stripe takes a moment to answer the authorization: the shopper is on the wait page meanwhile.
  slowStripe = await pspProxy(stripe.url, (c) => (c.method === 'POST' && c.url.startsWith('/v1/payment_intents') ? { delayMs: 1500 } : {}));
  gw = await startGateway();
  token = await tokenOf(gw);
});
after(async () => { await gw?.close(); await slowStripe?.close(); await Promise.all([adyen?.close(), stripe?.close()]); });

test('a shopper waiting after the first challenge is sent on as soon as the next PSP asks for its own, not at the end of the hold', async () => {
  await configureCascade(gw, {
    adyen3ds: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } },
    stripe: { connector: 'stripe', settings: { baseUrl: slowStripe.url, ...stripeFakeCredentials } },
  }, ['adyen3ds', 'stripe'], ['soft', 'error']);
  const inst = await instrument(gw, token, suiteCards.challenge, 'wait-second-challenge');
  const id = await execution(gw, token, 'wait-second-challenge');
  const body = { ...authorizeBody(inst, '50.00'), returnInfo: { success: 'https://shop.example/ok', cancel: 'https://shop.example/cancel', error: 'https://shop.example/error' } };
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body })).status, 200);
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorizePending', JSON.stringify(e.statusHistory));
  await (await fetch(e.requiredAction.href, { redirect: 'manual' })).arrayBuffer();
  // Back from Adyen's challenge, which Adyen then declines softly: the cascade calls Stripe.
  const back = fetch(`${adyen.state.returnUrls.at(-1)!}?redirectResult=passed`, { redirect: 'manual' }).then((r) => r.arrayBuffer());
  for (let i = 0; i < 50 && (await gw.app.payments.details((await call(gw, 'GET', `${wf}/${id}`, { token })).body.paymentComposition[0].paymentId))!.attempts.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  // The shopper's wait, held up to a minute here: it must end when Stripe's challenge exists.
  const started = Date.now();
  const waited = await gw.app.executions.forShopper(id, 60_000);
  const took = Date.now() - started;
  await back;
  assert.equal(waited && shopperStepOf(waited)?.kind, 'challenge', JSON.stringify(waited && shopperStepOf(waited)));
  assert.ok(took < 30_000, `the wait ended after ${took} ms, at the end of its hold, not when the next challenge was asked for`);
});
