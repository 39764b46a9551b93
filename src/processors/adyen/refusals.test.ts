/**
 * Adyen's answers read into neutral outcomes, against Adyen's published text: its refusal-reasons
 * table (every refusalReasonCode and refusalReason) and its Checkout API's resultCode description.
 * 42 was named "Transaction timeout" and read as the provider's error (the cascade moved the card
 * on); 46 was unknown, so soft; a Cancelled answer was always the shopper's, whatever its reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outcomeOfPaymentResponse, refusalReasonOf } from './outcomes.ts';
import { settlementOfItem } from './connector.ts';
import { cascadeCategoryOf } from '../../payments/cascade.ts';

// Adyen's refusal-reasons table: "42 | 3DS Authentication Error", next to "39 | RReq not received
// from DS", a 3-D Secure error too; in a webhook only the text comes.
test('Adyen refusal 42 is "3DS Authentication Error" (Adyen\'s list), read as a 3-D Secure error, by code and by webhook text', () => {
  const byCode = outcomeOfPaymentResponse({ resultCode: 'Refused', refusalReasonCode: '42', refusalReason: '3DS Authentication Error', pspReference: 'PSP0000000000042' });
  assert.equal(byCode?.kind, 'declined');
  assert.equal(byCode?.kind === 'declined' ? byCode.reason : undefined, 'authentication_error');
  const byName = refusalReasonOf(undefined, '3DS Authentication Error');
  assert.deepEqual(byName, { reason: 'authentication_error', code: '42' });
});

// Adyen's refusal-reasons table: "46 | Transaction blocked by Adyen to prevent excessive retry
// fees". The card was already retried too often: sending it on to the next PSP is one more retry
// of the same card, the very thing Adyen blocked.
test('Adyen refusal 46 (blocked to prevent excessive retry fees) does not let the cascade retry the card elsewhere', () => {
  const byCode = outcomeOfPaymentResponse({ resultCode: 'Refused', refusalReasonCode: '46', refusalReason: 'Transaction blocked by Adyen to prevent excessive retry fees', pspReference: 'PSP0000000000046' });
  assert.equal(byCode?.kind, 'declined');
  assert.notEqual(cascadeCategoryOf(byCode?.kind === 'declined' ? byCode.reason : undefined), 'soft');
  const item = settlementOfItem({
    eventCode: 'AUTHORISATION', success: 'false', merchantReference: 'att_46', pspReference: 'PSP0000000000046',
    originalReference: undefined, merchantAccountCode: 'M', value: 1000, currency: 'EUR',
    reason: 'Transaction blocked by Adyen to prevent excessive retry fees', hmacSignature: undefined,
  });
  assert.equal(item?.outcome.kind, 'declined');
  assert.notEqual(cascadeCategoryOf(item?.outcome.kind === 'declined' ? item.outcome.reason : undefined), 'soft');
});

// Adyen: resultCode is "The category for the refused payment: Refused, Error, or Cancelled", with
// refusalReason/refusalReasonCode saying why; "22 | FRAUD-CANCELLED" is the risk checks flagging
// the payment as fraudulent (Adyen answers it as resultCode=Cancelled&refusalReason=FRAUD-CANCELLED):
// not the shopper's cancellation.
test('Adyen Cancelled with refusal reason FRAUD-CANCELLED (22) is fraud, not the shopper cancelling', () => {
  const o = outcomeOfPaymentResponse({ resultCode: 'Cancelled', refusalReasonCode: '22', refusalReason: 'FRAUD-CANCELLED', pspReference: 'PSP0000000000022' });
  assert.equal(o?.kind, 'declined');
  assert.equal(o?.kind === 'declined' ? o.reason : undefined, 'fraud');
});

test('Adyen Cancelled without a reason, with 15 ("Cancelled"), 16 ("Shopper Cancelled") or an unknown one, is the shopper\'s cancellation, which stops the cascade', () => {
  for (const r of [{}, { refusalReasonCode: '15', refusalReason: 'Cancelled' }, { refusalReason: 'Cancelled' }, { refusalReasonCode: '15' },
    { refusalReasonCode: '16', refusalReason: 'Shopper Cancelled' }, { refusalReasonCode: '999', refusalReason: 'Something new' }]) {
    const o = outcomeOfPaymentResponse({ resultCode: 'Cancelled', pspReference: 'PSP0000000000016', ...r });
    assert.equal(o?.kind === 'declined' ? o.reason : undefined, 'cancelled_by_shopper', JSON.stringify(r));
  }
});
