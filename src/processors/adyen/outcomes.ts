import type { DeclineReason, Outcome, ShopperRedirect } from '../outcome.ts';
import { isObject, shopperPageUrl, text } from '../http.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

/**
 * Adyen's authorisation refusal reasons (`refusalReasonCode`, with the `refusalReason` text its
 * webhooks carry instead) in neutral terms: the card itself is bad (hard), refused as fraud, 3-D
 * Secure failed, the request or the acquirer was at fault; every other refusal is soft (this
 * acquirer said no this time; another may approve).
 */
const refusals: Readonly<Record<string, { name: string; reason: DeclineReason }>> = {
  '2': { name: 'Refused', reason: 'soft' },
  '3': { name: 'Referral', reason: 'soft' },
  '4': { name: 'Acquirer Error', reason: 'provider_error' },
  '5': { name: 'Blocked Card', reason: 'hard' },
  '6': { name: 'Expired Card', reason: 'hard' },
  '7': { name: 'Invalid Amount', reason: 'invalid_request' },
  '8': { name: 'Invalid Card Number', reason: 'hard' },
  '9': { name: 'Issuer Unavailable', reason: 'soft' },
  '10': { name: 'Not supported', reason: 'hard' },
  '11': { name: '3D Not Authenticated', reason: 'authentication_failed' },
  '12': { name: 'Not enough balance', reason: 'soft' },
  '14': { name: 'Acquirer Fraud', reason: 'fraud' },
  '15': { name: 'Cancelled', reason: 'soft' },
  '16': { name: 'Shopper Cancelled', reason: 'cancelled_by_shopper' },
  '17': { name: 'Invalid Pin', reason: 'soft' },
  '18': { name: 'Pin tries exceeded', reason: 'soft' },
  '19': { name: 'Pin validation not possible', reason: 'soft' },
  '20': { name: 'FRAUD', reason: 'fraud' },
  '21': { name: 'Not Submitted', reason: 'provider_error' },
  '22': { name: 'FRAUD-CANCELLED', reason: 'fraud' },
  '23': { name: 'Transaction Not Permitted', reason: 'hard' },
  '24': { name: 'CVC Declined', reason: 'hard' },
  '25': { name: 'Restricted Card', reason: 'hard' },
  '26': { name: 'Revocation Of Auth', reason: 'hard' },
  '27': { name: 'Declined Non Generic', reason: 'soft' },
  '28': { name: 'Withdrawal amount exceeded', reason: 'soft' },
  '29': { name: 'Withdrawal count exceeded', reason: 'soft' },
  '31': { name: 'Issuer Suspected Fraud', reason: 'fraud' },
  '32': { name: 'AVS Declined', reason: 'hard' },
  '33': { name: 'Card requires online pin', reason: 'soft' },
  '34': { name: 'No checking account available on Card', reason: 'hard' },
  '35': { name: 'No savings account available on Card', reason: 'hard' },
  '36': { name: 'Mobile pin required', reason: 'soft' },
  '37': { name: 'Contactless fallback', reason: 'soft' },
  '38': { name: 'Authentication required', reason: 'soft' },
  '39': { name: 'RReq not received from DS', reason: 'authentication_error' },
  '42': { name: '3DS Authentication Error', reason: 'authentication_error' },
  // Adyen stopped the card being retried: another PSP would be one more retry.
  '46': { name: 'Transaction blocked by Adyen to prevent excessive retry fees', reason: 'hard' },
};

const byName = new Map(Object.entries(refusals).map(([code, r]) => [r.name.toLowerCase(), { code, ...r }]));

/** The neutral reason of a refusal, by its code or (in webhooks) its text; soft when unknown. */
export function refusalReasonOf(code: string | undefined, name: string | undefined): { reason: DeclineReason; code: string | undefined } {
  if (code !== undefined && Object.hasOwn(refusals, code)) return { reason: refusals[code]!.reason, code };
  const named = name === undefined ? undefined : byName.get(name.toLowerCase());
  return named ? { reason: named.reason, code: named.code } : { reason: 'soft', code };
}

/** The redirect of an Adyen `action` of type `redirect`, passed through as the shopper must follow it. */
export function redirectOfAction(action: unknown): ShopperRedirect | undefined {
  if (!isObject(action) || action.type !== 'redirect') return undefined;
  const url = shopperPageUrl(action.url);
  if (url === undefined) return undefined;
  const method = action.method === 'POST' ? 'POST' : 'GET';
  const data = isObject(action.data) ? action.data : {};
  const parameters = Object.entries(data).filter(([, v]) => typeof v === 'string').map(([name, value]) => ({ name, value: value as string }));
  return { url, method, parameters };
}

/**
 * The neutral outcome of an answer of `/payments` or `/payments/details`, by its `resultCode`:
 * Authorised approves; Received and Pending wait; a redirect action sends the shopper to 3-D
 * Secure; Refused declines by its refusal reason, Error is the provider's, Cancelled the
 * shopper's unless Adyen gives its own reason (its risk checks cancelling it). Undefined when the answer carries no result code. Pure.
 */
export function outcomeOfPaymentResponse(r: Record<string, unknown>): Answer | undefined {
  const resultCode = text(r.resultCode, 64);
  if (resultCode === undefined) return undefined;
  const pspReference = text(r.pspReference, 64);
  const details: Record<string, string> = { resultCode };
  switch (resultCode) {
    case 'Authorised': {
      // The scheme's id of the transaction, which later charges of a card kept on file refer to
      // (Adyen answers it when it does not keep the card itself).
      const networkTx = isObject(r.additionalData) ? text(r.additionalData.networkTxReference, 64) : undefined;
      if (networkTx !== undefined) details.networkTransactionId = networkTx;
      return { kind: 'approved', pspReference, acquirerCode: resultCode, details };
    }
    case 'Received': case 'Pending': case 'PresentToShopper':
      return { kind: 'pending', action: undefined, pspReference, acquirerCode: resultCode, details };
    case 'RedirectShopper': case 'ChallengeShopper': case 'IdentifyShopper': {
      const redirect = redirectOfAction(r.action);
      // Only redirects are asked for; a native 3-D Secure action would need our own SDK page.
      if (!redirect) return { kind: 'declined', reason: 'authentication_error', acquirerCode: resultCode, message: 'unsupported 3-D Secure action', pspReference, details };
      return { kind: 'pending', action: 'three_ds', pspReference, acquirerCode: resultCode, details, redirect };
    }
    case 'Refused': {
      const refusal = refusalReasonOf(text(r.refusalReasonCode, 8), text(r.refusalReason));
      const message = text(r.refusalReason);
      if (refusal.code !== undefined) details.refusalReasonCode = refusal.code;
      return { kind: 'declined', reason: refusal.reason, acquirerCode: refusal.code !== undefined ? `Refused:${refusal.code}` : resultCode, message, pspReference, details };
    }
    case 'Cancelled': {
      // Adyen's own cancellations carry their reason (FRAUD-CANCELLED, 22, is its risk checks), read
      // as it says; any other (none, 15 "Cancelled", 16 "Shopper Cancelled", one read soft or not
      // known) is the shopper's or the merchant's, which no other PSP may charge.
      const refusal = refusalReasonOf(text(r.refusalReasonCode, 8), text(r.refusalReason));
      const known = refusal.code !== undefined && refusals[refusal.code] !== undefined && refusal.reason !== 'soft' && refusal.reason !== 'cancelled_by_shopper';
      if (!known) return { kind: 'declined', reason: 'cancelled_by_shopper', acquirerCode: resultCode, message: undefined, pspReference, details };
      details.refusalReasonCode = refusal.code!;
      return { kind: 'declined', reason: refusal.reason, acquirerCode: `Cancelled:${refusal.code!}`, message: text(r.refusalReason), pspReference, details };
    }
    case 'Error':
      return { kind: 'declined', reason: 'provider_error', acquirerCode: resultCode, message: text(r.refusalReason), pspReference, details };
    case 'PartiallyAuthorised':
      // Approved for less than was asked (an account Adyen set up for partial authorisation): money
      // is held, or for a sale taken, so it is no decline a cascade could move on from; nor the
      // approval asked for. Thrown: the attempt stays unknown, for the reconciler and an operator.
      throw new Error(`Adyen authorised only part of the amount (PartiallyAuthorised${pspReference ? `, ${pspReference}` : ''}): not taken as this request's outcome`);
    default:
      // A code this connector does not know (Adyen's description lists `Success` and
      // `AuthenticationFinished` too, and may add more): nothing says the card was not charged.
      // Thrown, the attempt stays unknown until Adyen's notification says how it ended; taken as a
      // decline, a cascade would charge the card again at the next PSP.
      throw new Error(`Adyen answered resultCode ${resultCode}, which this connector does not know: not taken as a decline`);
  }
}
