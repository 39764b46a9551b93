/**
 * The PSP return address `/hosted/psp-return/{paymentId}/{attemptId}` takes no credential; for a
 * payment's first attempt it is `/hosted/psp-return/{id}/{id}`, so whoever knows the payment id
 * (or a link scanner, a prefetch) can reach it. Reached before the shopper is done at the PSP's
 * own 3-D Secure, it carries nothing from the PSP; the gateway asks the PSP by the reference the
 * attempt holds and hears "the shopper still has to act". That changes nothing: taken as Stripe's
 * failed authentication it would decline the payment (or move the cascade on), taken as an OPP
 * acquirer's pending it would close the challenge, and the shopper, in the middle of it, would
 * come back to a payment that no longer waits for them. (For Adyen, a return without a
 * redirectResult changes nothing: test/psp-return-not-finished.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { challengedPa, passAcquirerChallenge, startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { fetchPage } from './support/shopper.ts';

let stripe: StripeFake;
let acquirer: OppFake;
let gw: Gateway;
before(async () => {
  [stripe, acquirer] = await Promise.all([startStripeFake(), startOppFake()]);
  gw = await startGateway();
});
after(async () => { await gw?.close(); await Promise.all([stripe?.close(), acquirer?.close()]); });

const hop = async (url: string) => {
  const r = await fetch(url, { redirect: 'manual' });
  await r.arrayBuffer();
  return { status: r.status, location: r.headers.get('location') ?? undefined };
};

test('Stripe: a GET of the return address before the shopper finished the challenge does not decline the payment', async () => {
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } } }, ['stripe']);
  const r = await opp(gw, 'POST', '/v1/payments', { ...challengedPa('41.00'), 'card.number': suiteCards.challenge });
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  // A stranger (or a prefetch) reaches the return address the payment id names.
  await hop(`${gw.url}/hosted/psp-return/${r.body.id}/${r.body.id}`);
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.equal(d.operations[0]!.status, 'awaiting',
    `a request carrying nothing from Stripe ended the shopper's payment: ${d.operations[0]!.status}/${d.operations[0]!.reason} (attempt ${d.attempts[0]!.status}/${d.attempts[0]!.reason})`);
  // The shopper then passes Stripe's challenge and comes back: the payment is authorized.
  const page = await hop(r.body.redirect.url);
  assert.equal(page.status, 303, 'the shopper\'s own challenge page still forwards to Stripe');
  const back = await hop(page.location!);
  await hop(back.location!);
  const after = (await gw.app.payments.details(r.body.id))!;
  assert.equal(after.operations[0]!.status, 'succeeded');
});

test('OPP acquirer: a GET of the return address before the shopper finished the challenge leaves the payment waiting for them, and their return finishes it', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: acquirer.url, ...oppFakeCredentials } } }, ['acq']);
  const r = await opp(gw, 'POST', '/v1/payments', challengedPa('42.00'));
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  await hop(`${gw.url}/hosted/psp-return/${r.body.id}/${r.body.id}`);
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.equal(d.operations[0]!.status, 'awaiting', `a request carrying nothing from the acquirer moved the payment to ${d.operations[0]!.status}`);
  // The shopper opens the challenge page the payment's redirect names.
  const form = new URLSearchParams((r.body.redirect.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
  const page = await fetchPage(r.body.redirect.url, { method: 'POST', body: form });
  await page.arrayBuffer();
  assert.equal(page.status, 200, `the shopper's challenge page was closed by the stranger's request (${page.status})`);
  // They pass the acquirer's challenge and come back: the payment is authorized.
  const { returnUrl } = await passAcquirerChallenge(acquirer);
  await hop(returnUrl);
  const after = (await gw.app.payments.details(r.body.id))!;
  assert.equal(after.operations[0]!.status, 'succeeded');
});
