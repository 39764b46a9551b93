/**
 * Adyen answers /payments with a resultCode the connector does not know (`Success` is in Adyen's
 * own v71 list; any code it adds later is the same case). Nothing says the card was not charged.
 * Read as a provider_error decline, a cascade moved on and charged the same card at the next PSP
 * (and without one, the merchant saw a decline to retry). It stays unknown, for the AUTHORISATION
 * notification.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';

let adyen: AdyenFake;
let stripe: StripeFake;
let proxy: PspProxy;
let gw: Gateway;
let token: string;
before(async () => {
  [adyen, stripe] = await Promise.all([startAdyenFake(), startStripeFake()]);
  proxy = await pspProxy(adyen.url, (c): Routing => (c.method === 'POST' && c.url.endsWith('/payments')
    ? { answer: { status: 200, json: { resultCode: 'Success', pspReference: 'V4HZ4RBFJGXXGN99', merchantReference: JSON.parse(c.body).reference, amount: JSON.parse(c.body).amount } } }
    : {}));
  gw = await startGateway();
  token = await tokenOf(gw);
  await configureCascade(gw, {
    adyen: { connector: 'adyen', settings: { baseUrl: proxy.url, ...adyenFakeCredentials } },
    stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } },
  }, ['adyen', 'stripe'], ['error']);
});
after(async () => { await gw?.close(); await proxy?.close(); await Promise.all([adyen?.close(), stripe?.close()]); });

test('Adyen: an authorization answered with a resultCode the connector does not know is left unknown, not declined and cascaded to the next PSP', async () => {
  const holder = 'adyen-unknown-result';
  const inst = await instrument(gw, token, suiteCards.approved, holder);
  const id = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '40.00') });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  await gw.app.payments.idle();
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  const paymentId: string = e.paymentComposition[0].paymentId;
  const d = (await gw.app.payments.details(paymentId))!;
  const tried = d.attempts.map((a) => `${a.accountName}:${a.status}/${a.reason ?? ''}/${a.resultCode ?? ''}`);
  assert.equal(d.attempts.length, 1, `after Adyen's unrecognised "Success" the cascade charged the card at the next PSP too: ${JSON.stringify(tried)} (execution ${e.status})`);
  assert.equal(d.attempts[0]!.status, 'unknown', `Adyen's unrecognised resultCode was recorded as ${JSON.stringify(tried)}`);
});
