/**
 * The neutral vocabulary every connector answers in and the engine records: the port's own
 * language, so that neither a dialect's codes nor one PSP's reach the engine.
 */

/**
 * Why an operation did not succeed, in neutral terms (the acquirer's own code travels beside it).
 * `soft`: this acquirer refused this time, another may approve; `hard`: the card itself is bad;
 * `fraud`: refused as suspected fraud; `invalid_request`: the request could not be processed as
 * sent; `provider_error`: the PSP failed to process it; `not_supported`: the connector could not
 * put the request to its PSP at all (an operation it does not offer, card data it lacks, an amount
 * finer than the account takes), so nothing was sent and another account may carry it; the rest
 * end a payment before any PSP:
 * 3-D Secure failed, was unavailable or errored, the shopper cancelled or never came back, or the
 * PSP never received the request.
 */
export const declineReasons = [
  'soft', 'hard', 'fraud', 'invalid_request', 'provider_error', 'not_supported',
  'authentication_failed', 'authentication_error', 'not_enrolled', 'not_participating',
  'cancelled_by_shopper', 'expired', 'not_received',
  // The stored card the payment was to use was deleted before it could run (no PSP asked).
  'instrument_removed',
] as const;
export type DeclineReason = (typeof declineReasons)[number];
export const isDeclineReason = (s: unknown): s is DeclineReason => (declineReasons as readonly unknown[]).includes(s);

/** Whether a payment ended because its cardholder did not authenticate: 3-D Secure failed, cancelled, never finished, or erred at the issuer. */
export const cardholderNotAuthenticated = (reason: DeclineReason | undefined): boolean =>
  reason === 'authentication_failed' || reason === 'cancelled_by_shopper' || reason === 'expired' || reason === 'authentication_error';

/** What the shopper must do before a pending payment can go on. */
export const shopperActions = ['three_ds', 'bank_transfer'] as const;
export type ShopperAction = (typeof shopperActions)[number];

/**
 * Where a PSP sends the shopper to authenticate (its own 3-D Secure): passed through unchanged,
 * the way the PSP gave it. The parameters are posted as form fields when `method` is POST.
 */
export interface ShopperRedirect {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly parameters: readonly { readonly name: string; readonly value: string }[];
}

/**
 * The neutral outcome of an attempt at a PSP, which every connector answers and both dialects map
 * to their own vocabulary: approved; declined with a reason plus the acquirer's code and message;
 * pending (the PSP is still processing, or the shopper must act); unknown (the answer was lost).
 */
export type Outcome =
  | { readonly kind: 'approved'; readonly pspReference: string | undefined; readonly acquirerCode: string | undefined; readonly details: Readonly<Record<string, string>> }
  | { readonly kind: 'declined'; readonly reason: DeclineReason; readonly acquirerCode: string | undefined; readonly message: string | undefined; readonly pspReference: string | undefined; readonly details: Readonly<Record<string, string>> }
  | { readonly kind: 'pending'; readonly action: ShopperAction | undefined; readonly pspReference: string | undefined; readonly acquirerCode: string | undefined; readonly details: Readonly<Record<string, string>>;
      /** The PSP runs the shopper's 3-D Secure itself: where to send the shopper (with `action: 'three_ds'`). */
      readonly redirect?: ShopperRedirect }
  | { readonly kind: 'unknown' };


/**
 * An outcome with card numbers masked in the PSP's free text (its message and details): that text
 * is kept with the attempt, answered to the merchant and sent in webhooks, and an acquirer may echo
 * the card number in it ("card 4111… refused"). The PSP's reference and code are identifiers and
 * stay as they are: an Adyen reference is sixteen digits and passes the Luhn check one time in ten.
 */
export function withoutCardNumbers<O extends Outcome>(outcome: O, scrub: (text: string) => string): O {
  if (outcome.kind === 'unknown') return outcome;
  const details = Object.fromEntries(Object.entries(outcome.details).map(([k, v]) => [scrub(k), scrub(v)]));
  if (outcome.kind === 'declined') return { ...outcome, details, message: outcome.message === undefined ? undefined : scrub(outcome.message) };
  return { ...outcome, details };
}

/**
 * An outcome with control characters (C0, DEL, C1) out of everything the PSP wrote in it. They
 * corrupt logs, exports and pages, and PostgreSQL's text refuses a NUL: kept, a PSP's answer holding
 * one failed the unit of work that records the payment after the PSP had charged. Identifiers (its
 * reference and code) get U+FFFD in their place, so they stay visibly not what the PSP sent; free
 * text (its message, its details) a space.
 */
export function withoutControlCharacters<O extends Outcome>(outcome: O): O {
  if (outcome.kind === 'unknown') return outcome;
  const controls = /\p{Cc}/gu;
  const text = (s: string) => s.replace(controls, ' ');
  const id = (s: string | undefined) => (s === undefined ? s : s.replace(controls, '\uFFFD'));
  const details = Object.fromEntries(Object.entries(outcome.details).map(([k, v]) => [text(k), text(v)]));
  const ids = { pspReference: id(outcome.pspReference), acquirerCode: id(outcome.acquirerCode) };
  if (outcome.kind === 'declined') return { ...outcome, ...ids, details, message: outcome.message === undefined ? undefined : text(outcome.message) };
  return { ...outcome, ...ids, details };
}

/**
 * The detail under which an attempt keeps the PSP's own risk score of the payment, where its
 * answer gives one (an OPP-family acquirer's `risk.score`): the `/v1` answer repeats it.
 */
export const riskScoreDetail = 'riskScore';
