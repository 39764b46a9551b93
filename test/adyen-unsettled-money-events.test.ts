/**
 * Adyen events that move money on a gateway payment without the gateway asking, and that no attempt
 * of ours settles: CANCEL_OR_REFUND and MANUAL_REVIEW_REJECT items (among Adyen's standard event
 * codes) fell through to an info line only. They are told to an operator at error level, as money
 * the books do not hold.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from './support/harness.ts';
import { capturedExecution, gatewayAtPspFakes, type GatewayAtPspFakes } from './support/captured-execution.ts';
import { configureCascade } from './support/executions.ts';
import { adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { signItem } from '../src/processors/adyen/webhook.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let adyen: AdyenFake;
let gw: Gateway;
let token: string;
let fakes: GatewayAtPspFakes;
before(async () => { fakes = await gatewayAtPspFakes({ SWITCHYARD_PSP_TIMEOUT_MS: '300' }); ({ adyen, gw, token } = fakes); });
after(() => fakes?.close());

function adyenItem(item: { pspReference: string; originalReference?: string; merchantReference: string; eventCode: string; value: number }) {
  const n = { ...item, merchantAccountCode: adyenFakeCredentials.merchantAccount, currency: 'EUR', success: 'true' };
  const signed = { pspReference: n.pspReference, originalReference: n.originalReference, merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference, value: n.value, currency: n.currency, eventCode: n.eventCode, success: n.success };
  return JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: {
    pspReference: n.pspReference, ...(n.originalReference ? { originalReference: n.originalReference } : {}), merchantAccountCode: n.merchantAccountCode, merchantReference: n.merchantReference,
    amount: { value: n.value, currency: n.currency }, eventCode: n.eventCode, success: n.success, eventDate: new Date().toISOString(), reason: '',
    additionalData: { hmacSignature: signItem(signed, adyenFakeCredentials.hmacKey) },
  } }] });
}

const totals = async (paymentId: string) => ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
/** Whether an operator was told, at error or warn level, of a PSP movement naming this reference. */
const told = (ref: string) => gw.logs.some((l) => (l.includes('"level":50') || l.includes('"level":40')) && l.includes(ref));

describe('Adyen events outside settlementOfItem that move money', () => {
  test('CANCEL_OR_REFUND of a captured payment (Adyen refunds it) is recorded or told to an operator', async () => {
    await configureCascade(gw, {}, ['adyen']);
    const { paymentId, pspReference, authorizeAttemptId } = await capturedExecution(gw, token, 'adyen-cancel-or-refund', () => fakes.deliverAdyen());
    assert.notEqual(typeof adyen.bank.refund(pspReference, 5000), 'string');
    const body = adyenItem({ pspReference: 'CANCELORREFUND01', originalReference: pspReference, merchantReference: authorizeAttemptId, eventCode: 'CANCEL_OR_REFUND', value: 5000 });
    assert.deepEqual(await fakes.post('adyen', body), { status: 200, text: '[accepted]' });
    await gw.app.payments.idle();
    const t = await totals(paymentId);
    assert.ok(t.refunded === 5000 || told('CANCELORREFUND01') || told(pspReference),
      `Adyen refunded the captured 50.00 (CANCEL_OR_REFUND): the books say refunded ${t.refunded}, and no operator was told`);
  });

  test('MANUAL_REVIEW_REJECT of a captured payment (Adyen cancels or refunds a rejected review) is recorded or told to an operator', async () => {
    await configureCascade(gw, {}, ['adyen']);
    const { paymentId, pspReference, authorizeAttemptId } = await capturedExecution(gw, token, 'adyen-review-reject', () => fakes.deliverAdyen());
    assert.notEqual(typeof adyen.bank.refund(pspReference, 5000), 'string');
    // A manual review's item names the payment itself: its pspReference and merchantReference.
    const body = adyenItem({ pspReference, merchantReference: authorizeAttemptId, eventCode: 'MANUAL_REVIEW_REJECT', value: 5000 });
    assert.deepEqual(await fakes.post('adyen', body), { status: 200, text: '[accepted]' });
    await gw.app.payments.idle();
    const t = await totals(paymentId);
    assert.ok(t.refunded === 5000 || told(pspReference),
      `Adyen's review rejected the payment (it cancels or refunds it): the books say captured ${t.captured}, refunded ${t.refunded}, and no operator was told`);
  });
});
