/**
 * Disputes and refund failures as PSPs report them: events shaped as the PSP's own examples, in
 * any order (a reversal before its chargeback is refused so the PSP sends it again), a chargeback
 * while a refund is still at the PSP, the dispute events an operator must answer; the books stay
 * balanced and the merchant is told.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { oppCaptured } from './support/opp-captured.ts';
import { configureCascade } from './support/executions.ts';
import { postPspNotification } from './support/psp-notifications.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';
import { signatureHeader } from '../src/processors/stripe/webhook.ts';

let adyen: AdyenFake;
let stripe: StripeFake;
let gw: Gateway;
before(async () => {
  [adyen, stripe, gw] = await Promise.all([startAdyenFake(), startStripeFake(), startGateway()]);
  await configureCascade(gw, {
    adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } },
    stripe: { connector: 'stripe', settings: { baseUrl: stripe.url, ...stripeFakeCredentials } },
  }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close(), stripe?.close()]); });

async function post(account: 'adyen' | 'stripe', body: string, headers: Record<string, string> = {}) {
  const out = await postPspNotification(gw, account, body, headers);
  await gw.app.payments.idle();
  return out;
}
async function deliverAdyen() { for (const b of adyen.takeNotifications()) assert.equal((await post('adyen', b)).status, 200); }
async function deliverStripe() { for (const e of stripe.takeEvents()) assert.equal((await post('stripe', e.body, { 'stripe-signature': e.signature })).status, 200); }

/** An Adyen item signed with the account's key, as Adyen's own examples shape it. */
function adyenItem(item: { pspReference: string; originalReference?: string; merchantReference: string; value: number; currency: string; eventCode: string; success: string; eventDate?: string }) {
  const base = { pspReference: item.pspReference, originalReference: item.originalReference, merchantAccountCode: adyenFakeCredentials.merchantAccount, merchantReference: item.merchantReference, value: item.value, currency: item.currency, eventCode: item.eventCode, success: item.success };
  const n: Record<string, unknown> = { pspReference: item.pspReference, merchantAccountCode: base.merchantAccountCode, merchantReference: item.merchantReference, amount: { value: item.value, currency: item.currency }, eventCode: item.eventCode, success: item.success, eventDate: item.eventDate ?? '2026-01-01T01:00:00+01:00', reason: 'x', additionalData: { hmacSignature: signItem(base, adyenFakeCredentials.hmacKey) } };
  if (item.originalReference !== undefined) n.originalReference = item.originalReference;
  return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: n }] });
}

const captured = (deliver: () => Promise<void>) => oppCaptured(gw, deliver);
const totals = async (paymentId: string) => ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
const opsOf = async (paymentId: string) => (await gw.app.storage.db.selectFrom('transactions').select(['id', 'type', 'status', 'amount', 'psp_reference'])
  .where('payment_id', '=', paymentId).orderBy('seq').execute());

describe('Adyen', () => {
  before(async () => { await configureCascade(gw, {}, ['adyen']); });

  test('a CHARGEBACK_REVERSED shaped as Adyen\'s own example (no originalReference, the dispute\'s pspReference) gives the chargeback back', async () => {
    const { paymentId, pspReference } = await captured(deliverAdyen);
    const attemptRef = (await gw.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', paymentId).orderBy('created_at').executeTakeFirstOrThrow()).id;
    assert.equal((await post('adyen', adyenItem({ pspReference: 'DSPVENDOR0000001', originalReference: pspReference, merchantReference: attemptRef, value: 5000, currency: 'EUR', eventCode: 'CHARGEBACK', success: 'true' }))).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 5000);
    // Webhooks-v1.yaml post-CHARGEBACK_REVERSED-chargeback_reversed: no originalReference.
    assert.equal((await post('adyen', adyenItem({ pspReference: 'DSPVENDOR0000001', merchantReference: attemptRef, value: 5000, currency: 'EUR', eventCode: 'CHARGEBACK_REVERSED', success: 'true', eventDate: '2026-01-09T01:00:00+01:00' }))).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 0, `the reversal was not recorded: ${JSON.stringify((await opsOf(paymentId)).map((o) => [o.type, o.status]))}`);
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a SECOND_CHARGEBACK shaped as Adyen\'s example, before the reversal it follows, is sent again and recorded after it', async () => {
    const { paymentId, pspReference } = await captured(deliverAdyen);
    const attemptRef = (await gw.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', paymentId).orderBy('created_at').executeTakeFirstOrThrow()).id;
    const item = (eventCode: string, eventDate: string, originalReference?: string) => adyenItem({ pspReference: 'DSPSECOND0000001', ...(originalReference ? { originalReference } : {}), merchantReference: attemptRef, value: 5000, currency: 'EUR', eventCode, success: 'true', eventDate });
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    assert.equal((await post('adyen', item('CHARGEBACK', hoursAgo(3), pspReference))).status, 200);
    const second = item('SECOND_CHARGEBACK', hoursAgo(1));
    assert.equal((await post('adyen', second)).status, 503, 'the first chargeback still stands: sent again later');
    assert.equal((await post('adyen', item('CHARGEBACK_REVERSED', hoursAgo(2)))).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 0);
    assert.equal((await post('adyen', second)).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 5000, JSON.stringify((await opsOf(paymentId)).map((o) => [o.type, o.status])));
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a CHARGEBACK_REVERSED delivered before its CHARGEBACK (Adyen does not order its items) leaves nothing charged back', async () => {
    const { paymentId, pspReference } = await captured(deliverAdyen);
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DSPSWAP000000001');
    adyen.dispute(pspReference, 'CHARGEBACK_REVERSED', { value: 5000, currency: 'EUR' }, 'DSPSWAP000000001');
    const [cb, cr] = adyen.takeNotifications();
    const first = await post('adyen', cr!);
    assert.equal(first.status, 503, 'refused, so that Adyen sends it again');
    assert.equal((await post('adyen', cb!)).status, 200);
    // Adyen sends again what was not accepted.
    assert.equal((await post('adyen', cr!)).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 0, `the merchant won the dispute; the books say charged back: ${JSON.stringify((await opsOf(paymentId)).map((o) => [o.type, o.status, Number(o.amount)]))}`);
  });

  test('a CHARGEBACK that arrives while a refund is at Adyen, whose REFUND then fails, is in the books', async () => {
    const { paymentId, pspReference, captureId } = await captured(deliverAdyen);
    const rf = await opp(gw, 'POST', `/v1/payments/${captureId}`, { paymentType: 'RF', amount: '50.00', currency: 'EUR' });
    assert.match(rf.body.result.code, /^000\./, JSON.stringify(rf.body.result));
    await gw.app.payments.idle();
    const refundNotes = adyen.takeNotifications(); // REFUND held back
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DSPINFLIGHT00001');
    await deliverAdyen();
    // The scheme had charged back: Adyen refuses the refund.
    const refund = JSON.parse(refundNotes[0]!).notificationItems[0].NotificationRequestItem;
    assert.equal((await post('adyen', adyenItem({ pspReference: refund.pspReference, originalReference: refund.originalReference, merchantReference: refund.merchantReference, value: refund.amount.value, currency: 'EUR', eventCode: 'REFUND', success: 'false' }))).status, 200);
    const ops = await opsOf(paymentId);
    assert.deepEqual(ops.find((o) => o.type === 'refund')?.status, 'failed');
    assert.equal((await totals(paymentId)).chargedBack, 5000, `Adyen charged back 50.00; the books show: ${JSON.stringify(ops.map((o) => [o.type, o.status, Number(o.amount)]))}`);
  });

  test('REFUND_FAILED after REFUND: the refund is undone in the books, /v1 says so, the merchant is told', async () => {
    const { paymentId, captureId } = await captured(deliverAdyen);
    const rf = await opp(gw, 'POST', `/v1/payments/${captureId}`, { paymentType: 'RF', amount: '20.00', currency: 'EUR' });
    await gw.app.payments.idle();
    const [refundNote] = adyen.takeNotifications();
    assert.equal((await post('adyen', refundNote!)).status, 200);
    assert.equal((await totals(paymentId)).refunded, 2000);
    const refund = JSON.parse(refundNote!).notificationItems[0].NotificationRequestItem;
    const outboxBefore = (await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', rf.body.id).execute()).length;
    assert.equal((await post('adyen', adyenItem({ pspReference: refund.pspReference, originalReference: refund.originalReference, merchantReference: refund.merchantReference, value: 2000, currency: 'EUR', eventCode: 'REFUND_FAILED', success: 'true' }))).status, 200);
    assert.equal((await totals(paymentId)).refunded, 0);
    const q = await opp(gw, 'GET', `/v1/query/${rf.body.id}`);
    assert.doesNotMatch(q.body.result.code, /^000\.(000|100)/, JSON.stringify(q.body.result));
    const outboxAfter = (await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', rf.body.id).execute()).length;
    assert.ok(outboxAfter > outboxBefore, 'the merchant is not told');
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('REQUEST_FOR_INFORMATION (a dispute opened: the merchant must answer) is told to an operator', async () => {
    const { pspReference } = await captured(deliverAdyen);
    const logged = gw.logs.length;
    adyen.dispute(pspReference, 'REQUEST_FOR_INFORMATION', { value: 5000, currency: 'EUR' }, 'DSPRFI0000000001');
    await deliverAdyen();
    assert.ok(gw.logs.slice(logged).some((l) => l.includes('REQUEST_FOR_INFORMATION')), 'a request for information was dropped silently');
  });

  test('a second CHARGEBACK event after a reversal (new eventDate, same dispute) and a partial chargeback', async () => {
    const { paymentId, pspReference } = await captured(deliverAdyen);
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 2000, currency: 'EUR' }, 'DSPPART000000001');
    await deliverAdyen();
    assert.equal((await totals(paymentId)).chargedBack, 2000);
    adyen.dispute(pspReference, 'CHARGEBACK_REVERSED', { value: 2000, currency: 'EUR' }, 'DSPPART000000001');
    adyen.dispute(pspReference, 'SECOND_CHARGEBACK', { value: 2000, currency: 'EUR' }, 'DSPPART000000001');
    await deliverAdyen();
    assert.equal((await totals(paymentId)).chargedBack, 2000);
    assert.equal(await gw.app.ledger.verify(), undefined);
  });
});

describe('dispute events that wait for the one they follow, so long only', () => {
  before(async () => { await configureCascade(gw, {}, ['adyen']); });

  test('a reversal whose chargeback was refused (the payment had been refunded) is sent again while recent, then refused and told to an operator', async () => {
    const { paymentId, pspReference, captureId } = await captured(deliverAdyen);
    assert.match((await opp(gw, 'POST', `/v1/payments/${captureId}`, { paymentType: 'RF', amount: '50.00', currency: 'EUR' })).body.result.code, /^000\./);
    await deliverAdyen();
    const attemptRef = (await gw.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', paymentId).orderBy('created_at').executeTakeFirstOrThrow()).id;
    const item = (eventCode: string, eventDate: string) => adyenItem({ pspReference: 'DSPREFUNDED00001', originalReference: pspReference, merchantReference: attemptRef, value: 5000, currency: 'EUR', eventCode, success: 'true', eventDate });
    const now = new Date().toISOString();
    assert.equal((await post('adyen', item('CHARGEBACK', now))).status, 200, 'refused (more than is captured and not refunded), acknowledged, an operator told');
    assert.equal((await post('adyen', item('CHARGEBACK_REVERSED', now))).status, 503, 'while recent, its chargeback may still be on its way');
    const logged = gw.logs.length;
    const dayOld = new Date(Date.now() - 25 * 3_600_000).toISOString();
    assert.equal((await post('adyen', item('CHARGEBACK_REVERSED', dayOld))).status, 200, 'a day on, it is not asked for again');
    assert.ok(gw.logs.slice(logged).some((l) => l.includes('"level":50') && l.includes('DSPREFUNDED00001')), 'an operator is told at error level');
  });

  test('a reversal without originalReference of a dispute on no payment of ours is refused once it is no longer recent', async () => {
    const old = new Date(Date.now() - 25 * 3_600_000).toISOString();
    assert.equal((await post('adyen', adyenItem({ pspReference: 'DSPFOREIGN000001', originalReference: 'NOTOURS000000001', merchantReference: 'x', value: 5000, currency: 'EUR', eventCode: 'CHARGEBACK', success: 'true', eventDate: old }))).status, 200);
    assert.equal((await post('adyen', adyenItem({ pspReference: 'DSPFOREIGN000001', merchantReference: 'x', value: 5000, currency: 'EUR', eventCode: 'CHARGEBACK_REVERSED', success: 'true', eventDate: old }))).status, 200);
  });
});

describe('Stripe', () => {
  before(async () => { await configureCascade(gw, {}, ['stripe']); });

  test('charge.refund.updated with status failed after the refund succeeded: undone in the books and in /v1', async () => {
    const { paymentId, captureId } = await captured(deliverStripe);
    const rf = await opp(gw, 'POST', `/v1/payments/${captureId}`, { paymentType: 'RF', amount: '20.00', currency: 'EUR' });
    assert.match(rf.body.result.code, /^000\./, JSON.stringify(rf.body.result));
    await deliverStripe();
    assert.equal((await totals(paymentId)).refunded, 2000);
    const refund = stripe.refunds().at(-1)!;
    const body = JSON.stringify({ id: 'evt_refund_failed_1', object: 'event', type: 'charge.refund.updated', created: Math.floor(Date.now() / 1000), data: { object: { ...refund, status: 'failed', failure_reason: 'expired_or_canceled_card' } } });
    const r = await post('stripe', body, { 'stripe-signature': signatureHeader(body, stripeFakeCredentials.webhookSecret, Math.floor(Date.now() / 1000)) });
    assert.equal(r.status, 200);
    assert.equal((await totals(paymentId)).refunded, 0);
    const q = await opp(gw, 'GET', `/v1/query/${rf.body.id}`);
    assert.doesNotMatch(q.body.result.code, /^000\.(000|100)/, JSON.stringify(q.body.result));
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a dispute funds_reinstated before funds_withdrawn leaves nothing charged back', async () => {
    const { paymentId, pspReference } = await captured(deliverStripe);
    stripe.dispute('charge.dispute.funds_withdrawn', pspReference, 5000, 'eur', 'dp_swap1');
    stripe.dispute('charge.dispute.funds_reinstated', pspReference, 5000, 'eur', 'dp_swap1');
    const [w, r] = stripe.takeEvents();
    assert.equal((await post('stripe', r!.body, { 'stripe-signature': r!.signature })).status, 503, 'refused, so that Stripe sends it again');
    assert.equal((await post('stripe', w!.body, { 'stripe-signature': w!.signature })).status, 200);
    assert.equal((await post('stripe', r!.body, { 'stripe-signature': r!.signature })).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 0);
  });
});

