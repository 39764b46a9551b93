import type { DeclineReason, Outcome } from '../outcome.ts';
import { isObject, shopperPageUrl, text } from '../http.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

/**
 * Stripe's decline codes (`decline_code`, else the error's `code`) in neutral terms: the card
 * itself is bad (hard), refused as fraud, 3-D Secure failed, the request or Stripe was at fault;
 * the rest soft (this issuer said no this time).
 */
const reasons: Readonly<Record<string, DeclineReason>> = {
  expired_card: 'hard', incorrect_number: 'hard', invalid_number: 'hard', invalid_expiry_month: 'hard', invalid_expiry_year: 'hard',
  incorrect_cvc: 'hard', invalid_cvc: 'hard', lost_card: 'hard', stolen_card: 'hard', pickup_card: 'hard', restricted_card: 'hard',
  card_not_supported: 'hard', invalid_account: 'hard', new_account_information_available: 'hard', revocation_of_authorization: 'hard',
  do_not_try_again: 'hard', not_permitted: 'hard', transaction_not_allowed: 'hard',
  // "The customer must use another card"; and an identical payment made very recently, which another
  // PSP would charge again while that one stands.
  pin_try_exceeded: 'hard', duplicate_transaction: 'hard',
  // The cardholder stopped this merchant's payments (or all of them): no other PSP may try again.
  stop_payment_order: 'hard', revocation_of_all_authorizations: 'hard',
  fraudulent: 'fraud', merchant_blacklist: 'fraud', security_violation: 'fraud',
  authentication_required: 'authentication_failed', payment_intent_authentication_failure: 'authentication_failed',
  processing_error: 'provider_error', issuer_not_available: 'soft',
  invalid_amount: 'invalid_request', currency_not_supported: 'invalid_request', amount_too_small: 'invalid_request', amount_too_large: 'invalid_request',
};

export function declineReasonOf(code: string | undefined): DeclineReason {
  return (code !== undefined ? reasons[code] : undefined) ?? 'soft';
}

/** A Stripe error object (`last_payment_error` or an error answer's `error`) as a decline. */
export function declineOfError(error: Record<string, unknown>, pspReference: string | undefined): Answer {
  const code = text(error.decline_code, 64) ?? text(error.code, 64);
  const reason = error.type === 'invalid_request_error' && error.decline_code === undefined ? (reasons[code ?? ''] ?? 'invalid_request')
    : error.type === 'api_error' ? 'provider_error' : declineReasonOf(code);
  return { kind: 'declined', reason, acquirerCode: code ?? text(error.type, 64), message: text(error.message), pspReference, details: code ? { declineCode: code } : {} };
}

/**
 * The neutral outcome of a PaymentIntent by its `status`: authorized (requires_capture) or
 * captured (succeeded) approve; processing waits; requires_action with a `redirect_to_url` sends
 * the shopper to 3-D Secure; requires_payment_method declines by its last payment error; canceled
 * declines. Pure.
 */
export function outcomeOfIntent(pi: Record<string, unknown>): Answer | undefined {
  const status = text(pi.status, 64);
  const pspReference = text(pi.id, 64);
  if (status === undefined) return undefined;
  const details = { status };
  switch (status) {
    case 'requires_capture': case 'succeeded':
      return { kind: 'approved', pspReference, acquirerCode: status, details };
    case 'processing':
      return { kind: 'pending', action: undefined, pspReference, acquirerCode: status, details };
    case 'requires_action': {
      const next = isObject(pi.next_action) ? pi.next_action : {};
      const url = isObject(next.redirect_to_url) ? shopperPageUrl(next.redirect_to_url.url) : undefined;
      if (next.type !== 'redirect_to_url' || url === undefined) {
        return { kind: 'declined', reason: 'authentication_error', acquirerCode: status, message: 'unsupported next_action', pspReference, details };
      }
      return { kind: 'pending', action: 'three_ds', pspReference, acquirerCode: status, details, redirect: { url, method: 'GET', parameters: [] } };
    }
    case 'requires_payment_method': case 'requires_confirmation': {
      const error = isObject(pi.last_payment_error) ? pi.last_payment_error : { type: 'card_error', code: 'card_declined' };
      return declineOfError(error, pspReference);
    }
    case 'canceled':
      return { kind: 'declined', reason: 'soft', acquirerCode: status, message: text(pi.cancellation_reason), pspReference, details };
    default:
      // A status this connector does not know: nothing says the card was not charged. Thrown, the
      // attempt stays unknown for a lookup; taken as a decline, a cascade would charge it again.
      throw new Error(`Stripe answered PaymentIntent status ${status}, which this connector does not know: not taken as a decline`);
  }
}

/** A Refund by its `status`: succeeded approves, pending and requires_action wait, failed and canceled decline. */
export function outcomeOfRefund(r: Record<string, unknown>): Answer | undefined {
  const status = text(r.status, 64);
  const pspReference = text(r.id, 64);
  if (status === undefined) return undefined;
  const details = { status };
  if (status === 'succeeded') return { kind: 'approved', pspReference, acquirerCode: status, details };
  if (status === 'pending' || status === 'requires_action') return { kind: 'pending', action: undefined, pspReference, acquirerCode: status, details };
  return { kind: 'declined', reason: 'provider_error', acquirerCode: status, message: text(r.failure_reason), pspReference, details };
}
