import type { PayError } from '../../payments/service.ts';
import type { DeclineReason, OperationStatus } from '../../payments/model.ts';
import type { RegistrationError } from '../../vault/registrations.ts';
import { accountRefusedCode, classifyResultCode, codeOfReason, isKnownResultCode, successCodeByMode } from '../../processors/result-codes.ts';
import type { BackOfficeType } from './payment-types.ts';

/** The test system a /v1 merchant chose (or live): it decides which success code an approval shows. */
export type ProcessingMode = keyof typeof successCodeByMode;


const plainSuccess = new Set<string>(Object.values(successCodeByMode));

/**
 * The /v1 result code of an operation: the acquirer's own code when an OPP-family acquirer
 * answered (the platform passes it through), else the code of the neutral outcome.
 */
export function resultCodeOf(o: { status: OperationStatus; reason: DeclineReason | undefined; resultCode: string | undefined }, mode: ProcessingMode): string {
  if (o.status === 'unknown') return '900.100.300';
  // A plain approval shows the success code of the test system the merchant chose (or live).
  if (o.status === 'succeeded' && (o.resultCode === undefined || plainSuccess.has(o.resultCode))) return successCodeByMode[mode];
  if (o.status === 'failed' && o.reason !== undefined && o.resultCode === undefined) return codeOfReason[o.reason];
  // An acquirer refusing the gateway's credentials for its account (800.900.300 "invalid
  // authentication information"): passed through, the merchant would read it as its own.
  if (o.status === 'failed' && o.resultCode !== undefined && accountRefusedCode.test(o.resultCode)) return codeOfReason.provider_error;
  if (o.resultCode !== undefined && isKnownResultCode(o.resultCode)) return o.resultCode;
  switch (o.status) {
    case 'succeeded': return successCodeByMode[mode];
    case 'failed': return codeOfReason[o.reason ?? 'soft'];
    default: return '000.200.000';
  }
}

/** Engine refusals → /v1 result codes (the reference's §6 table). */
export const paymentErrorCodes: Readonly<Record<Exclude<PayError, 'not_found' | 'not_allowed'>, string>> = {
  reference_pending: '700.400.570',
  capture_requires_authorization: '700.400.510',
  capture_exceeds_authorization: '700.400.100',
  refund_requires_capture: '700.400.520',
  refund_exceeds_captured: '700.400.200',
  reversal_requires_authorization: '700.400.530',
  reversal_after_capture: '700.300.300',
  reversal_not_possible: '700.300.700',
  already_reversed: '700.400.300',
  currency_mismatch: '700.100.500',
  charged_back: '700.300.600',
  chargeback_requires_capture: '700.400.550',
  chargeback_exceeds_captured: '700.400.400',
  multiple_chargebacks: '700.300.500',
  chargeback_reversal_requires_chargeback: '700.400.420',
  chargeback_reversal_exceeds_chargeback: '700.400.410',
  rebill_requires_capture: '700.100.700',
  receipt_requires_payment: '700.400.560',
  receipt_exceeds_amount: '700.400.560',
  reversal_amount_mismatch: '700.100.200',
  reversal_after_refund: '700.400.300',
  return_url_required: '100.370.101',
  amount_required: '200.300.404',
  duplicate_merchant_transaction_id: '800.130.100',
  invalid_card_number: '100.100.101',
  card_expired: '100.100.303',
  brand_mismatch: '100.100.700',
  cvv_brand_mismatch: '100.100.601',
  not_allowed_on_credit: '700.100.700',
  card_not_found: '100.150.200',
  registration_deleted: '100.150.202',
  test_system_on_live_merchant: '100.300.101',
};

/**
 * The field a card check refused, named in `parameterErrors` as every field refusal is (its value
 * never echoed: it is card data).
 */
export const cardErrorFields: Readonly<Partial<Record<PayError, { name: string; message: string }>>> = {
  invalid_card_number: { name: 'card.number', message: 'is not a card number (its check digit fails)' },
  card_expired: { name: 'card.expiryYear', message: 'the card has expired' },
  brand_mismatch: { name: 'paymentBrand', message: 'is not the card number\'s brand' },
  cvv_brand_mismatch: { name: 'card.cvv', message: 'has not the length this brand\'s security code has' },
};

/**
 * A back-office call naming an id that does not exist (for this entity) answers as the real
 * platform does for that operation (decision 2).
 */
export const notFoundCodes: Readonly<Record<BackOfficeType, string>> = {
  CP: '700.400.510',
  RV: '700.400.530',
  RF: '600.200.500',
  RB: '700.400.520',
  CB: '700.400.550',
  CR: '700.400.420',
  RC: '700.400.560',
};

/** HTTP status by result: success, review and pending are 200; every rejection is 400. */
export function httpStatusOf(code: string): number {
  return classifyResultCode(code) === 'rejected' ? 400 : 200;
}

/** Registration refusals → /v1 result codes. */
export const registrationErrorCodes: Readonly<Record<RegistrationError, string>> = {
  not_found: '100.150.200',
  deregistered: '100.150.202',
  unconfirmed: '100.150.201',
};
