/**
 * Money the PSP moves on a gateway payment without the gateway asking: a refund an operator makes
 * in Adyen's Customer Area or Stripe's Dashboard, a cancel made there. Each notification of it is
 * authentic and names the payment; the gateway does not record such an action by itself, so it is
 * told to an operator at error level — never acknowledged and dropped with an info line — and
 * never taken for the answer of an attempt of ours (a cancellation recorded a lost authorization
 * approved, with the cancellation's reference).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from './support/harness.ts';
import { capturedExecution, gatewayAtPspFakes, type GatewayAtPspFakes } from './support/captured-execution.ts';
import { authorizeBody, call, configureCascade, execution, instrument, wf } from './support/executions.ts';
import { adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';
import { signatureHeader } from '../src/processors/stripe/webhook.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let adyen: AdyenFake;
let stripe: StripeFake;
let gw: Gateway;
let token: string;
let fakes: GatewayAtPspFakes;
before(async () => { fakes = await gatewayAtPspFakes({ SWITCHYARD_PSP_TIMEOUT_MS: '300' }); ({ adyen, stripe, gw, token } = fakes); });
after(() => fakes?.close());

const post = (account: 'adyen' | 'stripe', body: string, headers: Record<string, string> = {}) => fakes.post(account, body, headers);
const deliverAdyen = () => fakes.deliverAdyen();
const deliverStripe = () => fakes.deliverStripe();

/** A signed Adyen notification of one item, as Adyen sends for an action taken in its Customer Area. */
function adyenItem(item: { pspReference: string; originalReference: string; merchantReference: string; eventCode: string; value: number }) {
  const n = { ...item, merchantAccountCode: adyenFakeCredentials.merchantAccount, currency: 'EUR', success: 'true' };
  const signed = { pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference, value: n.value, currency: n.currency, eventCode: n.eventCode, success: n.success };
  return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: {
    pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference,
    amount: { value: n.value, currency: n.currency }, eventCode: n.eventCode, success: n.success, eventDate: new Date().toISOString(), reason: '',
    additionalData: { hmacSignature: signItem(signed, adyenFakeCredentials.hmacKey) },
  } }] });
}

const captured = (holder: string, deliver: () => Promise<void>) => capturedExecution(gw, token, holder, deliver);

const totals = async (paymentId: string) => ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
/** Whether an operator was told, at error or warn level, of a PSP movement naming this reference. */
const told = (ref: string) => gw.logs.some((l) => (l.includes('"level":50') || l.includes('"level":40')) && l.includes(ref));

describe('refunds made at the PSP, outside the gateway', () => {
  test('Adyen: a partial REFUND made in the Customer Area (its own pspReference, the payment\'s originalReference and merchantReference) is recorded or told to an operator', async () => {
    await configureCascade(gw, {}, ['adyen']);
    const { paymentId, pspReference, authorizeAttemptId } = await captured('portal-refund-adyen', deliverAdyen);
    // The operator refunds 20.00 in the Customer Area: Adyen moves the money and notifies.
    assert.notEqual(typeof adyen.bank.refund(pspReference, 2000), 'string');
    const body = adyenItem({ pspReference: 'PORTALREFUND0001', originalReference: pspReference, merchantReference: authorizeAttemptId, eventCode: 'REFUND', value: 2000 });
    assert.deepEqual(await post('adyen', body), { status: 200, text: '[accepted]' });
    await gw.app.payments.idle();
    const t = await totals(paymentId);
    assert.ok(t.refunded === 2000 || told('PORTALREFUND0001'),
      `Adyen refunded 20.00 of the payment: the books say refunded ${t.refunded}, and no operator was told`);
  });

  test('Stripe: a refund made in the Dashboard (refund.created without the gateway\'s metadata) is recorded or told to an operator', async () => {
    await configureCascade(gw, {}, ['stripe']);
    const { paymentId, pspReference } = await captured('portal-refund-stripe', deliverStripe);
    // The Dashboard's refund: the same API, with none of the gateway's metadata.
    const r = await fetch(`${stripe.url}/v1/refunds`, { method: 'POST', headers: { authorization: `Bearer ${stripeFakeCredentials.secretKey}`, 'content-type': 'application/x-www-form-urlencoded' }, body: `payment_intent=${pspReference}&amount=2000` });
    assert.equal(r.status, 200);
    const refundId = (await r.json() as { id: string }).id;
    await deliverStripe();
    // Stripe also sends charge.refunded for it.
    const charged = JSON.stringify({ id: 'evt_portal_charge_refunded', object: 'event', api_version: '2024-06-20', created: Math.floor(Date.now() / 1000), type: 'charge.refunded', livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null },
      data: { object: { id: `ch_${pspReference.slice(3)}`, object: 'charge', amount: 5000, amount_refunded: 2000, currency: 'eur', payment_intent: pspReference, refunded: false, metadata: {} } } });
    assert.equal((await post('stripe', charged, { 'stripe-signature': signatureHeader(charged, stripeFakeCredentials.webhookSecret, Math.floor(Date.now() / 1000)) })).status, 200);
    await gw.app.payments.idle();
    const t = await totals(paymentId);
    assert.ok(t.refunded === 2000 || told(refundId) || told(pspReference),
      `Stripe refunded 20.00 of the payment (${refundId}): the books say refunded ${t.refunded}, and no operator was told`);
  });
});

describe('a cancel made at the PSP', () => {
  test('Adyen: a CANCELLATION from the Customer Area of an authorization whose answer was lost does not record the payment authorized', async () => {
    await configureCascade(gw, {}, ['adyen']);
    const id = await execution(gw, token, 'portal-cancel-adyen');
    const before = adyen.bank.payments.size;
    // Adyen authorizes but its answer never comes (the card that hangs): the attempt is unknown, and Adyen cannot be asked.
    const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(gw, token, suiteCards.silent, 'portal-cancel-adyen'), '50.00') });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    for (let i = 0; i < 100 && adyen.bank.payments.size === before; i++) await new Promise((r) => setTimeout(r, 20));
    const payment = [...adyen.bank.payments.values()].at(-1)!;
    // Hold back Adyen's AUTHORISATION item; the operator cancels the payment in the Customer Area first.
    adyen.takeNotifications();
    for (let i = 0; i < 50; i++) {
      const a = await gw.app.storage.db.selectFrom('attempts').select('status').where('id', '=', payment.attemptId).executeTakeFirst();
      if (a?.status === 'unknown') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const paymentId = (await gw.app.storage.db.selectFrom('attempts').select(['payment_id', 'status']).where('id', '=', payment.attemptId).executeTakeFirstOrThrow());
    assert.notEqual(paymentId.status, 'succeeded', 'precondition: the authorization is not known to the gateway yet');
    assert.notEqual(typeof adyen.bank.void(payment.id), 'string');
    const body = adyenItem({ pspReference: 'PORTALCANCEL0001', originalReference: payment.id, merchantReference: payment.attemptId, eventCode: 'CANCELLATION', value: 5000 });
    assert.deepEqual(await post('adyen', body), { status: 200, text: '[accepted]' });
    await gw.app.payments.idle();
    const opening = await gw.app.storage.db.selectFrom('transactions').select(['status', 'psp_reference']).where('payment_id', '=', paymentId.payment_id).where('seq', '=', 0).executeTakeFirstOrThrow();
    assert.ok(!(opening.status === 'succeeded' && opening.psp_reference === 'PORTALCANCEL0001'),
      `Adyen says the payment was cancelled; the gateway recorded its authorization succeeded, its PSP reference the cancellation's (${JSON.stringify(opening)})`);
  });
});
