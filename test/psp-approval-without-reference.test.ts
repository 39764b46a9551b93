/**
 * A PSP's approval that names no reference of its own (Adyen's `pspReference`, Stripe's
 * PaymentIntent `id`, an OPP acquirer's `id`) is a body of the wrong shape. Recorded approved, the
 * money was held at the PSP with no capture, void or refund ever sendable for it (each names that
 * reference), and the PSP's notification carrying it later changed nothing of a settled attempt.
 * It is left unknown, for the notification or the reconciler's lookup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdyenConnector } from '../src/processors/adyen/connector.ts';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';
import { createOppConnector } from '../src/processors/opp/connector.ts';
import { Cvv, Pan } from '../src/vault/card.ts';
import { money, type Currency } from '../src/money/money.ts';
import type { Connector } from '../src/processors/connector.ts';

async function answering(status: number, json: unknown) {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close(); } };
}
const card = { pan: new Pan('4111111111111111'), cvv: new Cvv('737'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '03', expiryYear: '30' };
const request = { operation: 'authorize' as const, attemptId: 'a'.repeat(32), amount: money(4000, 'EUR' as Currency), live: false, card, testParameters: {} };

async function outcomeOf(make: (url: string) => Connector, json: unknown): Promise<string> {
  const psp = await answering(200, json);
  try {
    const o = await make(psp.url).execute(request);
    return `${o.kind} (pspReference ${String(o.pspReference)})`;
  } catch (err) {
    return `thrown: ${String(err)}`;
  } finally { psp.close(); }
}

const cases: [string, (url: string) => Connector, unknown][] = [
  ['Adyen', (url) => createAdyenConnector({ baseUrl: url, apiKey: 'k', merchantAccount: 'ShopECOM', hmacKey: '00'.repeat(32), multiplePartialCaptures: false }, 2000),
    { resultCode: 'Authorised', merchantReference: 'a'.repeat(32), amount: { value: 4000, currency: 'EUR' } }],
  ['Stripe', (url) => createStripeConnector({ baseUrl: url, secretKey: 'sk_test_x', webhookSecret: 'whsec_x' }, 2000),
    { object: 'payment_intent', status: 'requires_capture', amount: 4000, currency: 'eur', metadata: { switchyard_attempt: 'a'.repeat(32) } }],
  ['OPP', (url) => createOppConnector({ baseUrl: url, accessToken: 't', entityId: 'e'.repeat(32) }, 2000),
    { result: { code: '000.100.110', description: 'Request successfully processed' }, paymentType: 'PA', amount: '40.00', currency: 'EUR', merchantTransactionId: 'a'.repeat(32) }],
];
for (const [psp, make, json] of cases) {
  test(`${psp}: an approval answered without the PSP's reference is not recorded approved (nothing could capture, void or refund it)`, async () => {
    const got = await outcomeOf(make, json);
    assert.ok(!got.startsWith('approved'), `${psp}'s approval without a reference became: ${got}`);
  });
}

/** An answer of a PSP that answers the same body whatever is asked, routed by path. */
async function answeringBy(route: (url: string) => unknown) {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(route(req.url ?? '')))); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close(); } };
}
const described = async (p: Promise<{ kind: string; pspReference?: string } | undefined>) =>
  p.then((o) => (o ? `${o.kind} (pspReference ${String(o.pspReference)})` : 'none'), (err: unknown) => `thrown: ${String(err)}`);
const hint = { operation: 'authorize' as const, amount: request.amount, pspReference: undefined, originalReference: undefined };
const unnamedAtAcquirer = { result: { code: '000.100.110', description: 'ok' }, paymentType: 'PA', amount: '40.00', currency: 'EUR', merchantTransactionId: request.attemptId };

test('the reconciler\'s lookup takes no approval without the PSP\'s reference either (OPP query, Stripe search)', async () => {
  const acq = await answeringBy(() => ({ result: { code: '000.000.100' }, payments: [unnamedAtAcquirer] }));
  const stripe = await answeringBy(() => ({ object: 'search_result', data: [{ object: 'payment_intent', status: 'requires_capture', amount: 4000, currency: 'eur', metadata: { switchyard_attempt: request.attemptId } }] }));
  try {
    const opp = await described(createOppConnector({ baseUrl: acq.url, accessToken: 't', entityId: 'e'.repeat(32) }, 2000).lookup(request.attemptId, hint));
    const str = await described(createStripeConnector({ baseUrl: stripe.url, secretKey: 'sk_test_x', webhookSecret: 'whsec_x' }, 2000).lookup(request.attemptId, hint));
    assert.match(opp, /^thrown/, opp);
    assert.match(str, /^thrown/, str);
  } finally { acq.close(); stripe.close(); }
});

test('OPP: an attempt answered "duplicate" takes no first approval found without the acquirer\'s id', async () => {
  const acq = await answeringBy((url) => (url.startsWith('/v1/query')
    ? { result: { code: '000.000.100' }, payments: [unnamedAtAcquirer] }
    : { id: 'dup1', result: { code: '800.130.100', description: 'duplicate' }, merchantTransactionId: request.attemptId }));
  try {
    const got = await described(createOppConnector({ baseUrl: acq.url, accessToken: 't', entityId: 'e'.repeat(32) }, 2000).execute(request));
    assert.match(got, /^thrown/, got);
  } finally { acq.close(); }
});
