import { createHash, randomUUID } from 'node:crypto';
import type { ExecutionError, NotAllowed } from '../../executions/errors.ts';
import { metaLimitBytes, type FailureInfo } from '../../executions/model.ts';

/** The dialect's public error codes (reference §4.2) and the HTTP status each answers with. */
export const errorStatus = {
  'request.malformed': 400,
  'request.unauthorized': 401,
  'request.forbidden': 403,
  'request.not-found': 404,
  'request.method-not-allowed': 405,
  'request.conflict': 409,
  'request.entity-too-large': 413,
  'request.header.missing': 400,
  'request.header.invalid': 400,
  'request.param.missing': 400,
  'request.param.invalid': 400,
  'request.rate-limit': 429,
  'workflow.action.not-allowed': 422,
  'workflow.action.failed': 422,
  internal: 500,
  'service.unavailable': 503,
} as const;
export type ErrorCode = keyof typeof errorStatus;

export interface ErrorItem {
  readonly id: string;
  readonly code: string;
  readonly detail: string;
  readonly reason?: Record<string, string>;
  /** The request that was refused (docs/compatibility.md): the same id as its `X-Request-Id` header and log lines. */
  readonly meta?: { readonly requestId: string };
}

/** Decision 6: `{errors: [{id, code, detail, reason?, meta?}]}`. */
export function errorBody(code: ErrorCode, detail: string, requestId?: string): { errors: ErrorItem[] } {
  return { errors: [{ id: randomUUID(), code, detail, ...(requestId ? { meta: { requestId } } : {}) }] };
}

/** The engine's and the execution service's refusals, mapped once to this dialect's codes. */
export const executionErrorCodes: Readonly<Record<ExecutionError, readonly [ErrorCode, string]>> = {
  not_found: ['request.not-found', 'The execution was not found'],
  not_allowed: ['workflow.action.not-allowed', 'The action is not allowed in the execution\'s current status'],
  instrument_not_found: ['request.param.invalid', 'paymentComposition[0].paymentInstrumentId: no such instrument for this holder'],
  instrument_expired: ['request.param.invalid', 'paymentComposition[0].paymentInstrumentId: the instrument\'s card has expired'],
  currency_mismatch: ['request.param.invalid', 'amount.currency must be the currency of the authorization'],
  payment_mismatch: ['request.param.invalid', 'paymentId must be the payment of this execution (its paymentComposition[0].paymentId)'],
  amount_mismatch: ['request.param.invalid', 'paymentComposition[0].amount must equal amount'],
  meta_too_large: ['request.param.invalid', `meta: merged with what the execution holds, it would be larger than ${metaLimitBytes / 1024} KiB, the most an execution keeps`],
  reference_pending: ['workflow.action.not-allowed', 'An earlier action on this payment is still in progress'],
  capture_requires_authorization: ['workflow.action.not-allowed', 'Capture needs an authorized execution'],
  capture_exceeds_authorization: ['workflow.action.not-allowed', 'amount exceeds what is left to capture'],
  refund_requires_capture: ['workflow.action.not-allowed', 'Refund needs captured money'],
  refund_exceeds_captured: ['workflow.action.not-allowed', 'amount exceeds what is left to refund'],
  reversal_requires_authorization: ['workflow.action.not-allowed', 'Cancel needs an authorized execution'],
  reversal_after_capture: ['workflow.action.not-allowed', 'Nothing is left to void'],
  reversal_not_possible: ['workflow.action.not-allowed', 'The authorization cannot be voided'],
  already_reversed: ['workflow.action.not-allowed', 'The authorization was voided already'],
  charged_back: ['workflow.action.not-allowed', 'The payment was charged back'],
  chargeback_requires_capture: ['workflow.action.not-allowed', 'Not allowed'],
  chargeback_exceeds_captured: ['workflow.action.not-allowed', 'Not allowed'],
  multiple_chargebacks: ['workflow.action.not-allowed', 'Not allowed'],
  chargeback_reversal_requires_chargeback: ['workflow.action.not-allowed', 'Not allowed'],
  chargeback_reversal_exceeds_chargeback: ['workflow.action.not-allowed', 'Not allowed'],
  rebill_requires_capture: ['workflow.action.not-allowed', 'Not allowed'],
  amount_required: ['request.param.missing', 'amount is required'],
  duplicate_merchant_transaction_id: ['request.conflict', 'merchantReference is taken'],
  invalid_card_number: ['request.param.invalid', 'data.cardNumber is not a valid card number'],
  card_expired: ['request.param.invalid', 'data.expiryMonth/expiryYear: the card has expired'],
  brand_mismatch: ['request.param.invalid', 'data.cardNumber: unknown card network'],
  cvv_brand_mismatch: ['request.param.invalid', 'data.securityCode has the wrong length for this card network'],
  receipt_requires_payment: ['workflow.action.not-allowed', 'Not allowed'],
  receipt_exceeds_amount: ['workflow.action.not-allowed', 'Not allowed'],
  reversal_amount_mismatch: ['request.param.invalid', 'A void releases the whole open amount: send it, or no amount'],
  reversal_after_refund: ['workflow.action.not-allowed', 'Refunds stand on a capture the PSP reported failed: capture again to cover them before voiding'],
  return_url_required: ['request.param.missing', 'returnInfo.success is required'],
  card_not_found: ['request.param.invalid', 'paymentComposition[0].paymentInstrumentId: the instrument\'s card is gone'],
  registration_deleted: ['workflow.action.not-allowed', 'the stored card this payment used was deleted: it is not charged again'],
  not_allowed_on_credit: ['workflow.action.not-allowed', 'Not allowed'],
  test_system_on_live_merchant: ['workflow.action.not-allowed', 'Not allowed for a live merchant'],
};

/** The words for why an action is not allowed (the use cases give the facts). */
export function notAllowedDetail(why: NotAllowed): string {
  switch (why.reason) {
    case 'authorize_once': return `authorize is allowed once, on a created execution (status ${why.status ?? 'unknown'})`;
    case 'needs_authorization': return `${why.action} needs an authorized execution; it is ${why.status}`;
    case 'capture_closed': return 'a final capture was made already';
    case 'wrong_status': return `${why.action} is not allowed while the execution is ${why.status}`;
    case 'nothing_left': return `nothing is left to ${why.action}`;
    case 'meta_locked': return `meta is locked once authorize completed (status ${why.status})`;
  }
}

/** Operation results (reference §2.2) for the failures recorded on an execution. */
const specific: Readonly<Record<string, readonly [string, string]>> = {
  '800.100.151': ['Instrument', 'InvalidInstrument'],
  '800.100.157': ['Instrument', 'ExpiredInstrument'],
  '800.100.159': ['Instrument', 'BlockedInstrument'],
  '800.100.171': ['Instrument', 'BlockedInstrument'],
  '800.100.155': ['InsufficientBalance', 'InsufficientBalance'],
  '800.100.162': ['Operation', 'LimitExceeded'],
  '800.100.153': ['Instrument', 'InvalidInstrument'],
  '100.400.319': ['FraudRisk', 'FraudRisk'],
  // The issuer suspecting manipulation, and Adyen's risk checks cancelling a payment.
  '800.100.158': ['FraudRisk', 'FraudRisk'],
  'Cancelled:22': ['FraudRisk', 'FraudRisk'],
  '800.100.160': ['Instrument', 'BlockedInstrument'],
  '800.100.165': ['Instrument', 'BlockedInstrument'],
  '800.100.168': ['Instrument', 'BlockedInstrument'],
  '800.100.172': ['Instrument', 'BlockedInstrument'],
};
const byReason: Readonly<Record<FailureInfo['reason'], readonly [string, string]>> = {
  declined_soft: ['Operation', 'GenericRejection'],
  declined_hard: ['Instrument', 'BlockedInstrument'],
  // A refusal for fraud, whichever PSP said it and in whatever code (Adyen's FRAUD, Stripe's fraudulent).
  declined_fraud: ['FraudRisk', 'FraudRisk'],
  provider_error: ['Connection', 'ProviderConnectionError'],
  authentication_failed: ['PayerAuthentication', 'PayerAuthenticationFailed'],
  authentication_error: ['PayerAuthentication', 'AuthenticationError'],
  cancelled_by_payer: ['Operation', 'PayerCanceled'],
  not_allowed: ['Operation', 'OperationNotAllowed'],
  invalid_instrument: ['Instrument', 'InvalidInstrument'],
};

/** A recorded failure in the status-history error shape; its id is stable across reads. */
export function failureItem(f: FailureInfo, seed: string): ErrorItem {
  const [category, result] = (f.resultCode && specific[f.resultCode]) || byReason[f.reason];
  const h = createHash('sha256').update(seed).digest('hex');
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  return {
    id, code: 'workflow.action.failed', detail: 'The execution of the requested workflow action failed',
    reason: { category, result, ...(f.resultCode ? { responseCode: f.resultCode } : {}) },
  };
}
