/**
 * Expected refusals of the payment engine, as stable codes. Each dialect maps them to its own
 * wire codes in one table.
 */
export const paymentErrors = [
  'reference_pending',
  'capture_requires_authorization',
  'capture_exceeds_authorization',
  'refund_requires_capture',
  'refund_exceeds_captured',
  'reversal_requires_authorization',
  'reversal_after_capture',
  'reversal_not_possible',
  'already_reversed',
  'currency_mismatch',
  'charged_back',
  'chargeback_requires_capture',
  'chargeback_exceeds_captured',
  'multiple_chargebacks',
  'chargeback_reversal_requires_chargeback',
  'chargeback_reversal_exceeds_chargeback',
  'rebill_requires_capture',
  'receipt_requires_payment',
  'receipt_exceeds_amount',
  'return_url_required',
  'amount_required',
  'duplicate_merchant_transaction_id',
  'invalid_card_number',
  'card_expired',
  'brand_mismatch',
  'cvv_brand_mismatch',
  'not_allowed_on_credit',
  'card_not_found',
] as const;
export type PaymentError = (typeof paymentErrors)[number];

export type Result<T, E = PaymentError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
