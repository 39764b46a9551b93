/**
 * Stripe sends the shopper back from its 3-D Secure with `payment_intent_client_secret` in the
 * return URL, and Stripe says that secret must never be logged; the gateway logs each request's
 * URL with its query, secrets masked.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/runtime/logger.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

async function hop(url: string) {
  const r = await fetch(url, { redirect: 'manual' });
  await r.text();
  return { status: r.status, location: r.headers.get('location') ?? undefined };
}

let stripe: StripeFake; let gw: Gateway; const logs: string[] = [];
before(async () => {
  stripe = await startStripeFake();
  const sink = new Writable({ write(c, _e, cb) { logs.push(String(c)); cb(); } });
  gw = await startGateway({ logger: createLogger({ level: 'debug', destination: sink as never }) });
});
after(async () => { await gw?.close(); await stripe?.close(); });

test('the Stripe client secret in the shopper\'s return URL is not written to the log', async () => {
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } } }, ['stripe']);
  const token = await tokenOf(gw);
  const inst = await instrument(gw, token, suiteCards.challenge, 'stripe-secret');
  const id = await execution(gw, token, 'stripe-secret');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '20.00') })).status, 200);
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorizePending', JSON.stringify(e.statusHistory));
  const toStripe = await hop(e.requiredAction.href);
  assert.ok(toStripe.location?.startsWith(`${stripe.url}/3ds/`), String(toStripe.location));
  const back = await hop(toStripe.location!);
  assert.match(back.location ?? '', /payment_intent_client_secret=pi_\w+_secret_/, 'Stripe returns the shopper with the client secret');
  const done = await hop(back.location!);
  assert.equal(done.status, 303);
  await new Promise((r) => setTimeout(r, 200));
  const leaked = logs.filter((l) => /_secret_fake/.test(l));
  assert.deepEqual(leaked, [], 'the PaymentIntent client secret is in the log');
});
