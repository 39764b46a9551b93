/**
 * An executions cancel (refund what was captured, void the rest) of an authorization partly captured
 * and then charged back. When the chargeback took back everything captured, the cancel releases the
 * uncaptured rest, as the /v1 RV and the expiry job do (the captured part is the scheme's, not the
 * merchant's to refund). When it took back only part, a refund is still due that cannot be made while
 * the chargeback stands: the cancel is refused rather than answered as if everything had gone back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let adyen: AdyenFake;
let gw: Gateway;
before(async () => {
  [adyen, gw] = await Promise.all([startAdyenFake({ multiplePartialCaptures: true }), startGateway()]);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials, multiplePartialCaptures: true } } }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });

const deliver = () => deliverAdyenNotifications(gw, adyen);
const opsOf = async (paymentId: string) => (await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount'])
  .where('payment_id', '=', paymentId).orderBy('seq').execute()).map((o) => [o.type, o.status, Number(o.amount)]);

/** 50.00 authorized, 30.00 captured, `chargedBack` of it charged back by the scheme; then the merchant cancels. */
async function cancelAfterChargeback(ref: string, chargedBack: number) {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, ref, suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
  await gw.app.payments.idle();
  await deliver();
  const opening = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();
  adyen.dispute(opening.psp_reference!, 'CHARGEBACK', { value: chargedBack, currency: 'EUR' }, `DISPUTE${ref.toUpperCase().replace(/[^A-Z]/g, '')}`);
  await deliver();
  const cancel = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  await gw.app.payments.idle();
  // Adyen answers a cancel with `received`; its CANCELLATION webhook settles it.
  await deliver();
  const execution = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  return { cancel, execution, ops: await opsOf(paymentId), totals: ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId)) };
}

test('a cancel after a partial capture charged back in full releases the open rest', async () => {
  const { cancel, ops, totals } = await cancelAfterChargeback('cb-cancel', 3000);
  assert.deepEqual(ops.at(-1), ['void', 'succeeded', 2000], `cancel answered ${cancel.status} ${JSON.stringify(cancel.body)}; ops ${JSON.stringify(ops)}`);
  assert.equal(totals.held, 0);
  assert.equal(await gw.app.ledger.verify(), undefined);
});

test('a cancel after a partial chargeback does not report the execution cancelled while captured money stays unrefunded', async () => {
  const { cancel, execution, ops, totals } = await cancelAfterChargeback('cb-partial-cancel', 1000);
  const kept = totals.captured - totals.refunded - totals.chargedBack;
  assert.ok(!(kept > 0 && execution.status === 'cancelled'),
    `cancel answered ${cancel.status}; execution ${execution.status}; the merchant still keeps ${kept} of the shopper's money: ${JSON.stringify(ops)} ${JSON.stringify(totals)}`);
  assert.equal(await gw.app.ledger.verify(), undefined);
});
