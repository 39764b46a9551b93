import { fail, ok, type Result as GenericResult } from '../runtime/result.ts';
import type { CardError } from '../vault/errors.ts';
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
  'reversal_amount_mismatch',
  'reversal_after_refund',
  'return_url_required',
  'amount_required',
  'duplicate_merchant_transaction_id',
  'not_allowed_on_credit',
  'card_not_found',
  'registration_deleted',
] as const;
/** The engine's refusals, and the card checks' (the vault's) it passes on. */
export type PaymentError = (typeof paymentErrors)[number] | CardError;

export type Result<T, E = PaymentError> = GenericResult<T, E>;
export { ok, fail };
