/**
 * Chargebacks a PSP reports on its own notification endpoint are recorded on the payment, as a
 * merchant's CB or CR would be: the operation, the ledger's postings and the merchant's event. The
 * same event sent again records nothing more; a dispute's course that moves no money, and one the
 * payment's totals refuse, are told to an operator and change nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from './support/harness.ts';
import { capturedExecution, gatewayAtPspFakes, type GatewayAtPspFakes } from './support/captured-execution.ts';
import { configureCascade, execution } from './support/executions.ts';
import type { AdyenFake } from './support/fake-psps/adyen.ts';
import type { StripeFake } from './support/fake-psps/stripe.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let adyen: AdyenFake;
let stripe: StripeFake;
let gw: Gateway;
let token: string;
let fakes: GatewayAtPspFakes;
before(async () => { fakes = await gatewayAtPspFakes(); ({ adyen, stripe, gw, token } = fakes); });
after(() => fakes?.close());

const post = (account: 'adyen' | 'stripe', body: string, headers: Record<string, string> = {}) => fakes.post(account, body, headers);
const deliverAdyen = () => fakes.deliverAdyen();
const deliverStripe = () => fakes.deliverStripe();

const captured = (holder: string, deliver: () => Promise<void>) => capturedExecution(gw, token, holder, deliver);

const disputeOps = (paymentId: string) => gw.app.storage.db.selectFrom('transactions').select(['id', 'type', 'status', 'amount', 'psp_reference', 'referenced_id'])
  .where('payment_id', '=', paymentId).where('type', 'in', ['chargeback', 'chargeback_reversal']).orderBy('seq').execute();

const totals = async (paymentId: string) => ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));

describe('Adyen', () => {
  before(async () => { await configureCascade(gw, {}, ['adyen']); });

  test('CHARGEBACK records a CB on the payment once, however often Adyen sends it; the books and the merchant\'s events follow', async () => {
    const { paymentId, pspReference } = await captured('cb-adyen', deliverAdyen);
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTE0000000001');
    const [notification] = adyen.takeNotifications();
    assert.deepEqual(await post('adyen', notification!), { status: 200, text: '[accepted]' });
    assert.deepEqual(await post('adyen', notification!), { status: 200, text: '[accepted]' }, 'Adyen sends until acknowledged, and sometimes twice');
    const ops = await disputeOps(paymentId);
    assert.deepEqual(ops.map((o) => [o.type, o.status, Number(o.amount), o.psp_reference]), [['chargeback', 'succeeded', 5000, 'DISPUTE0000000001']],
      'a chargeback Adyen reported was acknowledged and left out of the books');
    assert.equal((await totals(paymentId)).chargedBack, 5000);
    assert.equal(await gw.app.ledger.verify(), undefined);
    const events = await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', ops[0]!.id).execute();
    assert.ok(events.length > 0, 'the merchant hears of the chargeback');
    assert.ok(gw.logs.some((l) => l.includes('PSP chargeback recorded')));
    // Money charged back cannot be refunded as well.
    const refund = await gw.app.payments.followUp({
      merchant: (await gw.app.merchants.byId(gw.merchant.merchantId))!, scope: { channel: 'executions' }, kind: 'refund', referencedId: paymentId,
      amount: { amount: 100, currency: 'EUR' as never }, merchantTransactionId: undefined, context: {}, testParameters: {},
    });
    assert.equal(refund.ok, false);
  });

  test('CHARGEBACK_REVERSED gives the money back; the issuer\'s SECOND_CHARGEBACK takes it again; each once', async () => {
    const { paymentId, pspReference } = await captured('cb-adyen-2', deliverAdyen);
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTE0000000002');
    adyen.dispute(pspReference, 'CHARGEBACK_REVERSED', { value: 5000, currency: 'EUR' }, 'DISPUTE0000000002');
    adyen.dispute(pspReference, 'SECOND_CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTE0000000002');
    const bodies = adyen.takeNotifications();
    for (const body of [...bodies, ...bodies]) assert.equal((await post('adyen', body)).status, 200);
    const ops = await disputeOps(paymentId);
    assert.deepEqual(ops.map((o) => [o.type, Number(o.amount)]), [['chargeback', 5000], ['chargeback_reversal', 5000], ['chargeback', 5000]]);
    assert.equal(ops[1]!.referenced_id, ops[0]!.id, 'the reversal gives back its own dispute\'s chargeback');
    assert.equal((await totals(paymentId)).chargedBack, 5000);
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a reversal of a dispute the gateway refused to record does not give back another dispute\'s chargeback', async () => {
    const { paymentId, pspReference } = await captured('cb-adyen-other-dispute', deliverAdyen);
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTEA000000001');
    await deliverAdyen();
    // Another dispute of the same payment is refused (one stands in full), told to an operator.
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 2000, currency: 'EUR' }, 'DISPUTEB000000001');
    await deliverAdyen();
    adyen.dispute(pspReference, 'CHARGEBACK_REVERSED', { value: 2000, currency: 'EUR' }, 'DISPUTEB000000001');
    await deliverAdyen();
    assert.deepEqual((await disputeOps(paymentId)).map((o) => [o.type, Number(o.amount), o.psp_reference]), [['chargeback', 5000, 'DISPUTEA000000001']],
      'the reversal of the refused dispute was booked against the recorded one');
    assert.equal((await totals(paymentId)).chargedBack, 5000);
    assert.ok(gw.logs.some((l) => l.includes('"level":50') && l.includes('DISPUTEB000000001') && l.includes('chargeback_reversal_requires_chargeback')));
  });

  test('a CHARGEBACK_REVERSED after the SECOND_CHARGEBACK gives nothing back: a dispute is reversed once, and a replay of its signed reversal (only the unsigned eventDate changed) is known', async () => {
    const { paymentId, pspReference } = await captured('cb-adyen-second-round', deliverAdyen);
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTEC000000001');
    adyen.dispute(pspReference, 'CHARGEBACK_REVERSED', { value: 5000, currency: 'EUR' }, 'DISPUTEC000000001');
    const [chargeback, reversal] = adyen.takeNotifications();
    for (const body of [chargeback!, reversal!]) assert.equal((await post('adyen', body)).status, 200);
    adyen.dispute(pspReference, 'SECOND_CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTEC000000001');
    await deliverAdyen();
    assert.equal((await totals(paymentId)).chargedBack, 5000, 'the issuer\'s second round stands');
    // Adyen ends a second round with a pre-arbitration's event, never a second reversal: one told is
    // the first, sent again (its signature does not cover eventDate).
    const json = JSON.parse(reversal!);
    json.notificationItems[0].NotificationRequestItem.eventDate = '2024-02-03T10:00:00+01:00';
    assert.deepEqual(await post('adyen', JSON.stringify(json)), { status: 200, text: '[accepted]' });
    assert.deepEqual((await disputeOps(paymentId)).map((o) => o.type), ['chargeback', 'chargeback_reversal', 'chargeback']);
    assert.equal((await totals(paymentId)).chargedBack, 5000, 'the merchant got the second chargeback back');
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a signed CHARGEBACK or CHARGEBACK_REVERSED sent again with only its unsigned eventDate changed records nothing more', async () => {
    const { paymentId, pspReference } = await captured('cb-adyen-replay', deliverAdyen);
    // Adyen's HMAC covers neither eventDate nor anything else that tells two sendings apart.
    const redated = (body: string, eventDate: string) => {
      const json = JSON.parse(body);
      json.notificationItems[0].NotificationRequestItem.eventDate = eventDate;
      return JSON.stringify(json);
    };
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 2000, currency: 'EUR' }, 'DISPUTER000000001');
    const [chargeback] = adyen.takeNotifications();
    assert.equal((await post('adyen', chargeback!)).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 2000);
    adyen.dispute(pspReference, 'CHARGEBACK_REVERSED', { value: 2000, currency: 'EUR' }, 'DISPUTER000000001');
    const [reversal] = adyen.takeNotifications();
    assert.equal((await post('adyen', reversal!)).status, 200);
    assert.equal((await totals(paymentId)).chargedBack, 0);
    for (const body of [redated(chargeback!, '2024-01-02T10:00:00+01:00'), redated(reversal!, '2024-01-03T10:00:00+01:00')]) {
      assert.deepEqual(await post('adyen', body), { status: 200, text: '[accepted]' });
    }
    assert.deepEqual((await disputeOps(paymentId)).map((o) => o.type), ['chargeback', 'chargeback_reversal'], 'a replayed signed item was recorded as a new event');
    assert.equal((await totals(paymentId)).chargedBack, 0, 'the merchant was charged back again');
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a dispute event that moves no money, one naming no payment of ours, and one the payment cannot carry change nothing and are told to an operator', async () => {
    const { paymentId, pspReference } = await captured('cb-adyen-3', deliverAdyen);
    const before = (await gw.app.ledger.paymentPostings(paymentId)).length;
    const logged = gw.logs.length;
    adyen.dispute(pspReference, 'NOTIFICATION_OF_CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTE0000000003');
    adyen.dispute('9999999999999999', 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTE0000000004');
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 6000, currency: 'EUR' }, 'DISPUTE0000000005');
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'USD' }, 'DISPUTE0000000006');
    await deliverAdyen();
    assert.deepEqual(await disputeOps(paymentId), []);
    assert.equal((await gw.app.ledger.paymentPostings(paymentId)).length, before);
    const told = gw.logs.slice(logged).filter((l) => l.includes('"level":50'));
    assert.ok(told.some((l) => l.includes('NOTIFICATION_OF_CHARGEBACK')), 'a dispute opened is told');
    assert.ok(told.some((l) => l.includes('names no payment of this account')));
    assert.ok(told.some((l) => l.includes('chargeback_exceeds_captured')));
    assert.ok(told.some((l) => l.includes('currency_mismatch')));
  });
});

describe('Stripe', () => {
  before(async () => { await configureCascade(gw, {}, ['stripe']); });

  test('a dispute\'s funds_withdrawn records a CB, funds_reinstated a CR; created and closed only tell an operator', async () => {
    const { paymentId, pspReference } = await captured('cb-stripe', deliverStripe);
    assert.match(pspReference, /^pi_/);
    stripe.dispute('charge.dispute.created', pspReference, 5000, 'eur', 'dp_fake1');
    stripe.dispute('charge.dispute.funds_withdrawn', pspReference, 5000, 'eur', 'dp_fake1');
    await deliverStripe();
    assert.deepEqual((await disputeOps(paymentId)).map((o) => [o.type, Number(o.amount), o.psp_reference]), [['chargeback', 5000, 'dp_fake1']]);
    assert.equal((await totals(paymentId)).chargedBack, 5000);
    stripe.dispute('charge.dispute.funds_reinstated', pspReference, 5000, 'eur', 'dp_fake1');
    stripe.dispute('charge.dispute.closed', pspReference, 5000, 'eur', 'dp_fake1');
    const events = stripe.takeEvents();
    for (const e of [...events, ...events]) assert.equal((await post('stripe', e.body, { 'stripe-signature': e.signature })).status, 200);
    assert.deepEqual((await disputeOps(paymentId)).map((o) => o.type), ['chargeback', 'chargeback_reversal']);
    assert.equal((await totals(paymentId)).chargedBack, 0);
    assert.equal(await gw.app.ledger.verify(), undefined);
  });
});
