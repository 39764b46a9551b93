/**
 * A refund sent to Adyen, whose REFUND item is held up, and then Adyen's CHARGEBACK of the same
 * money: the chargeback is recorded (a refund in flight does not stop a chargeback the PSP reports),
 * and the refund's approval arriving after it too (Adyen moved both). The payment then shows more
 * money out than was captured; it was booked silently. An operator is told.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { oppCaptured } from './support/opp-captured.ts';
import { configureCascade } from './support/executions.ts';
import { postPspNotification } from './support/psp-notifications.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let adyen: AdyenFake;
let gw: Gateway;
before(async () => {
  [adyen, gw] = await Promise.all([startAdyenFake(), startGateway()]);
  await configureCascade(gw, {
    adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } },
  }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });
async function post(body: string) {
  const out = await postPspNotification(gw, 'adyen', body); await gw.app.payments.idle(); return out;
}
async function deliverAdyen() { for (const b of adyen.takeNotifications()) assert.equal((await post(b)).status, 200); }
const captured = (deliver: () => Promise<void>) => oppCaptured(gw, deliver);
const totals = async (paymentId: string) => ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));

describe('a refund its PSP approves after a chargeback of the same money', () => {
  test('a REFUND Adyen approves after a full CHARGEBACK was recorded on the same money is not booked silently as 100.00 out of a 50.00 capture', async () => {
    const { paymentId, pspReference, captureId } = await captured(deliverAdyen);
    const rf = await opp(gw, 'POST', `/v1/payments/${captureId}`, { paymentType: 'RF', amount: '50.00', currency: 'EUR' });
    assert.match(rf.body.result.code, /^000\./, JSON.stringify(rf.body.result));
    await gw.app.payments.idle();
    const held = adyen.takeNotifications();
    adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DSPX3');
    await deliverAdyen();
    for (const b of held) assert.equal((await post(b)).status, 200);
    const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).execute();
    const t = await totals(paymentId);
    // Adyen moved both: recorded as it happened, and an operator is told to settle the difference.
    assert.deepEqual([t.captured, t.refunded, t.chargedBack], [5000, 5000, 5000], JSON.stringify(ops.map((o) => [o.type, o.status, Number(o.amount)])));
    const told = gw.logs.filter((l) => l.includes('"level":50') && l.includes(paymentId) && l.includes('chargebacks and refunds exceed captured'));
    assert.equal(told.length, 1, 'an operator is told, once');
  });
});
