/**
 * Stripe sends a PaymentIntent's events at least once and in no guaranteed order; each carries the
 * PaymentIntent as it was when the event happened. `payment_intent.created` holds it from before
 * its confirmation (`requires_payment_method`, `last_payment_error: null`) and says nothing of how
 * the authorization ended. Read as a decline, it ended an authorization awaiting the shopper at
 * Stripe's 3-D Secure, which Stripe then approved: a hold the gateway never released.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { signatureHeader } from '../src/processors/stripe/webhook.ts';
import { postPspNotification } from './support/psp-notifications.ts';

let stripe: StripeFake;
let gw: Gateway;
let token: string;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake(), startGateway()]);
  token = await tokenOf(gw);
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await gw?.close(); await stripe?.close(); });

const hop = async (url: string) => {
  const r = await fetch(url, { redirect: 'manual' });
  await r.text();
  return { status: r.status, location: r.headers.get('location') ?? undefined };
};

test('a late payment_intent.created (the PaymentIntent before its confirmation) does not decline an authorization awaiting the shopper at Stripe', async () => {
  const inst = await instrument(gw, token, suiteCards.challenge, 'c-created-late');
  const id = await execution(gw, token, 'c-created-late');
  const body = { ...authorizeBody(inst, '50.00'), returnInfo: { success: 'https://shop.example/ok', cancel: 'https://shop.example/cancel', error: 'https://shop.example/error' } };
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body })).status, 200);
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorizePending', JSON.stringify(e.statusHistory));
  const toStripe = await hop(e.requiredAction.href);
  assert.equal(toStripe.status, 303);
  const piId = new URL(toStripe.location!).pathname.split('/').at(-1)!;
  stripe.takeEvents();

  // Stripe delivers payment_intent.created late: a snapshot from before the confirmation.
  const pi = stripe.intent(piId)!;
  const created = JSON.stringify({
    id: 'evt_created_late', object: 'event', api_version: '2024-06-20', created: pi.created - 1, livemode: false, pending_webhooks: 1,
    request: { id: 'req_1', idempotency_key: null }, type: 'payment_intent.created',
    data: { object: { ...pi, status: 'requires_payment_method', last_payment_error: null, next_action: null, latest_charge: null, amount_capturable: 0 } },
  });
  const ack = await postPspNotification(gw, 'stripe', created, { 'stripe-signature': signatureHeader(created, stripeFakeCredentials.webhookSecret, Math.floor(Date.now() / 1000)) });
  assert.equal(ack.status, 200);
  await gw.app.payments.idle();

  // The shopper passes Stripe's challenge and comes back: Stripe holds the authorization.
  const back = await hop(toStripe.location!);
  assert.equal(back.status, 302);
  await hop(back.location!);
  for (const ev of stripe.takeEvents()) await postPspNotification(gw, 'stripe', ev.body, { 'stripe-signature': ev.signature });
  await gw.app.payments.idle();
  assert.equal(stripe.intent(piId)!.status, 'requires_capture');

  const now = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(now.status, 'authorized',
    `Stripe holds the authorization, but the gateway ended the execution ${now.status}: ${JSON.stringify(now.statusHistory)}`);
});
