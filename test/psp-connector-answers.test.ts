/**
 * The Stripe and OPP connectors read a PSP's answers as their documents mean them: an answer that
 * leaves the payment's fate open is no decline (a cascade would charge the card at the next PSP),
 * a refused status call is not the payment's result, and each decline has its reason (a stop
 * order is hard, a failed 3-D Secure is authentication_failed, a shopper who left cancelled).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cvv, Pan } from '../src/vault/card.ts';
import { money, type Currency } from '../src/money/money.ts';
import type { ConnectorRequest } from '../src/processors/connector.ts';
import { createOppConnector, outcomeOfPayment } from '../src/processors/opp/connector.ts';
import { declineOfError } from '../src/processors/stripe/outcomes.ts';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';
import { startStripeFake, stripeFakeCredentials } from './support/fake-psps/stripe.ts';

const card = { pan: new Pan('4200000000000000'), cvv: new Cvv('123'), brand: 'VISA' as const, holder: 'Jane Jones', expiryMonth: '05', expiryYear: '34' };
const oppSettings = { baseUrl: 'http://127.0.0.1:1', accessToken: 'secret-token-1234', entityId: 'entity1' };
const request = (over: Partial<ConnectorRequest> = {}): ConnectorRequest => ({
  operation: 'authorize', attemptId: 'a'.repeat(32), amount: money(9200, 'EUR' as Currency), live: false, card, testParameters: {}, ...over,
});

const reasonOf = (code: string) => {
  const o = outcomeOfPayment({ id: 'p1', result: { code, description: 'd' } });
  return o?.kind === 'declined' ? o.reason : o?.kind;
};

// OPP: the shopper cancelled at the acquirer's 3-D Secure page, or never finished it. The result
// comes back through `complete`; the `100.3` "invalid request" pattern swallows the 100.396 family,
// so the merchant is told its request was malformed (executions: invalid request) instead of
// cancelled_by_payer / expired, which the gateway's own codeOfReason maps to these very codes.
test('OPP: a shopper who cancelled or abandoned 3-D Secure is cancelled_by_shopper / expired, not invalid_request', () => {
  const got = Object.fromEntries(['100.396.101', '100.396.103', '100.396.104'].map((c) => [c, reasonOf(c)]));
  assert.deepEqual(got, { '100.396.101': 'cancelled_by_shopper', '100.396.103': 'expired', '100.396.104': 'cancelled_by_shopper' });
});

// OPP: 100.380.401 "User Authentication Failed" and 800.400.200 "Invalid Payer Authentication"
// are 3-D Secure failures; the gateway's own table (codeOfReason) uses 100.380.401 for
// authentication_failed, but the connector reports them as a bad card (hard).
test('OPP: a failed 3-D Secure authentication is authentication_failed, not a bad card', () => {
  assert.equal(reasonOf('100.380.401'), 'authentication_failed');
  assert.equal(reasonOf('800.400.200'), 'authentication_failed');
});

// OPP: answers that leave the payment's fate open: 900.100.400 "timeout at connectors/acquirer
// side" (the platform says 900.100.301 when it reversed a timed-out payment), 999.999.999 (an
// undefined connector error) and 000.400.030 "Transaction partially failed (please reverse manually
// due to failed automatic reversal)". Declined, a cascade (moveOn: soft or error) would charge the
// card at the next PSP while the first charge may stand; they leave the attempt unknown instead.
for (const [code, description] of [['900.100.400', 'timeout at connectors/acquirer side'], ['999.999.999', 'UNDEFINED CONNECTOR/ACQUIRER ERROR'],
  ['000.400.030', 'Transaction partially failed (please reverse manually due to failed automatic reversal)']] as const) {
  test(`OPP: ${code} (${description}) leaves the attempt unknown, never declined`, async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        id: '8ac7a4a1000000000000000000000001', paymentType: 'PA', amount: '92.00', currency: 'EUR', result: { code, description },
      }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = createOppConnector({ ...oppSettings, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, 5000);
      const outcome = await c.execute(request()).catch(() => 'unknown (thrown)');
      assert.equal(typeof outcome === 'string' ? outcome : `${outcome.kind} ${outcome.kind === 'declined' ? outcome.reason : ''}`, 'unknown (thrown)');
      // Found so by the reconciler's lookup, it is still no outcome: asked again, then an operator.
      const listed = { result: { code: '000.000.100' }, payments: [{ id: 'p1', merchantTransactionId: 'a'.repeat(32), result: { code, description } }] };
      server.removeAllListeners('request');
      server.on('request', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(listed)));
      await assert.rejects(c.lookup('a'.repeat(32), undefined));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
}

// Stripe documents `revocation_of_all_authorizations` and `stop_payment_order` as "the customer
// has asked to stop all recurring payments": never to be tried again. Only
// `revocation_of_authorization` is in the hard list; these two fall to 'soft', so the cascade
// moves on to the next PSP (and a renewal is retried) against the cardholder's stop order.
test('Stripe: stop-payment and revoke-all decline codes are hard, not soft', () => {
  for (const code of ['revocation_of_all_authorizations', 'stop_payment_order']) {
    const o = declineOfError({ type: 'card_error', code: 'card_declined', decline_code: code, message: 'Your card was declined.' }, 'pi_1');
    assert.equal(o.kind === 'declined' && o.reason, 'hard', code);
  }
});

// Stripe's fake: Stripe's API reference says a PaymentIntent in requires_capture can be canceled
// and "the remaining amount_capturable is automatically refunded". With multicapture, a partial
// capture (final_capture=false) leaves the PaymentIntent in requires_capture, so the engine's void
// of the rest succeeds at Stripe; the fake (bank.void refuses any payment with captured > 0)
// refuses it, so tests pass against behaviour Stripe does not have.
test('Stripe fake: the rest of a multicapture PaymentIntent can be voided after a partial capture', async () => {
  const fake = await startStripeFake();
  try {
    const c = createStripeConnector({ baseUrl: fake.url, ...stripeFakeCredentials }, 5000);
    const eur = (n: number) => money(n, 'EUR' as Currency);
    const auth = await c.execute(request({ attemptId: 'b'.repeat(32), card: { ...card, pan: new Pan('4111111111111111') }, amount: eur(1000) }));
    assert.equal(auth.kind, 'approved');
    const ref = auth.pspReference!;
    const cap = await c.execute(request({ operation: 'capture', attemptId: 'c'.repeat(32), originalReference: ref, amount: eur(400), card: undefined }));
    assert.equal(cap.kind, 'approved');
    assert.equal(fake.intent(ref)?.status, 'requires_capture');
    const voided = await c.execute(request({ operation: 'void', attemptId: 'd'.repeat(32), originalReference: ref, amount: eur(600), card: undefined }));
    assert.equal(voided.kind, 'approved', `void of the rest answered ${JSON.stringify(voided)}`);
  } finally {
    await fake.close();
  }
});

// OPP: the status call `complete` makes (GET /v1/payments/{id}) is throttled to two a minute per
// transaction (the platform answers "429 and/or 800.120.100"); a throttled or
// unauthorised status call says nothing about the payment, yet its result code is taken as the
// payment's outcome: declined 'soft', which the cascade (moveOn: soft) sends on to the next PSP
// while the acquirer may have approved the authenticated payment - a double charge.
test('OPP: a throttled status call after the shopper\'s return is not the payment\'s decline', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({
      result: { code: '800.120.100', description: 'Rejected by Throttling.' }, buildNumber: 'x', timestamp: '2026-12-05 04:00:00+0000', ndc: 'n',
    }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const c = createOppConnector({ ...oppSettings, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }, 5000);
    const outcome = await c.complete!({ attemptId: 'a'.repeat(32), amount: money(9200, 'EUR' as Currency), pspReference: '8ac7a4a1000000000000000000000001', parameters: {} })
      .catch(() => 'thrown (asked again later)');
    assert.equal(typeof outcome === 'string' ? outcome : `${outcome.kind} ${outcome.kind === 'declined' ? outcome.reason : ''}`, 'thrown (asked again later)');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
