import { referencedApproval } from '../referenced-approval.ts';
import { clipText } from '../../runtime/utf8.ts';
import type { Money } from '../../money/money.ts';
import type { Outcome } from '../outcome.ts';
import { ReturnNotOurs, type Connector, type ConnectorFactory, type ConnectorOperation, type ConnectorRequest, type InboundResult, type PostalAddress, type PspDispute, type ShopperReturn } from '../connector.ts';
import { statementTextFor } from '../statement-text.ts';
import { isObject, pspFetch, text } from '../http.ts';
import { answeredAsAsked, isoMinorUnits, pspMinorUnits, statedAmount, type PspCurrencyTable } from '../minor-units.ts';
import { httpConnectorFactory } from '../refusing.ts';
import { declineOfError, outcomeOfIntent, outcomeOfRefund } from './outcomes.ts';
import { parseSettings, secretSettings, type StripeSettings } from './settings.ts';
import { verifySignature } from './webhook.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

const operations: readonly ConnectorOperation[] = ['authorize', 'sale', 'capture', 'void', 'refund'];

/** The Stripe API version every request pins (`Stripe-Version`). */
export const stripeApiVersion = '2024-06-20';

/** The metadata key our attempt id travels under, on PaymentIntents and Refunds. */
export const attemptKey = 'switchyard_attempt';
/** The metadata keys the merchant's own references of a payment travel under. */
export const merchantReferenceKey = 'merchant_reference';
export const merchantInvoiceKey = 'merchant_invoice_id';
/** A capture leaves its attempt id in the PaymentIntent's metadata, the one trace `lookup` can find it by. */
export const captureKey = (attemptId: string) => `sy_${attemptId}`;

/**
 * Where Stripe counts a currency otherwise than ISO 4217: Malagasy ariary whole; Icelandic krónur
 * and Ugandan shillings in hundredths (always 00, kept for backwards compatibility); the
 * three-decimal dinars in thousandths whose last digit must be 0.
 */
export const stripeCurrencies: PspCurrencyTable = {
  exponents: { MGA: 0, ISK: 2, UGX: 2 },
  multipleOf: { BHD: 10, JOD: 10, KWD: 10, OMR: 10, TND: 10 },
};

/** A PaymentIntent (or a refund) made for another amount or currency than asked is not this request's answer. */
const intentAsAsked = (pi: Record<string, unknown>, asked: Money) =>
  answeredAsAsked('Stripe', { value: pspMinorUnits(asked, stripeCurrencies), currency: asked.currency }, { value: pi.amount, currency: pi.currency });

/**
 * Stripe's card statement suffix: Latin letters, digits and the punctuation it takes (never
 * `< > \\ ' " *`), at least one letter. The statement line holds 22 characters: the account's
 * prefix (2 to 10, unknown here), `* ` and the suffix, so 10 always fit.
 */
const stripeSuffix = { allowed: /^[A-Za-z0-9 .,\-_&#:;!?@()+/]$/, max: 10, needsLetter: true };

/**
 * The shopper as Stripe's billing details and shipping take them (Stripe takes any part of an
 * address; a shipping address needs a first line and a name), and the statement text as the card
 * statement's suffix. Stripe's own 3-D Secure page reads the browser itself.
 */
function setShopper(body: URLSearchParams, req: ConnectorRequest): void {
  const s = req.shopper;
  if (s?.email !== undefined) body.set('payment_method_data[billing_details][email]', s.email);
  if (s?.phone !== undefined) body.set('payment_method_data[billing_details][phone]', s.phone);
  if (s?.billing) setAddress(body, 'payment_method_data[billing_details][address]', s.billing);
  const ship = s?.shipping;
  const recipient = [ship?.givenName, ship?.surname].filter((n) => n !== undefined).join(' ');
  if (ship?.street1 !== undefined && recipient !== '') {
    body.set('shipping[name]', recipient);
    setAddress(body, 'shipping[address]', ship);
  }
  const suffix = req.statementText !== undefined ? statementTextFor(req.statementText, stripeSuffix) : undefined;
  if (suffix !== undefined) body.set('statement_descriptor_suffix', suffix);
}

/**
 * The merchant's own server's 3-D Secure result, as Stripe takes one made elsewhere: only whole (the
 * cryptogram, the transaction's id and the version are required), so Stripe does not refuse the payment.
 */
function setCryptogram(body: URLSearchParams, req: ConnectorRequest): void {
  const a = req.authentication;
  const transaction = a?.dsTransactionId ?? a?.xid;
  if (a?.authenticationValue === undefined || transaction === undefined || a.version === undefined || a.eci === undefined) return;
  const at = 'payment_method_options[card][three_d_secure]';
  body.set(`${at}[cryptogram]`, a.authenticationValue);
  body.set(`${at}[electronic_commerce_indicator]`, a.eci);
  body.set(`${at}[transaction_id]`, transaction);
  body.set(`${at}[version]`, a.version);
  if (a.status === 'Y' || a.status === 'A') body.set(`${at}[ares_trans_status]`, a.status);
}

function setAddress(body: URLSearchParams, prefix: string, a: PostalAddress): void {
  const parts: [string, string | undefined][] = [
    ['line1', a.street1], ['line2', a.street2], ['city', a.city], ['state', a.state], ['postal_code', a.postcode], ['country', a.country],
  ];
  for (const [name, v] of parts) if (v !== undefined) body.set(`${prefix}[${name}]`, v);
}

/**
 * The form an operation is sent as (Stripe's bracketed form encoding). An authorization creates
 * and confirms a PaymentIntent with manual capture (multicapture asked for, so captures may come
 * in parts) and a return URL for its 3-D Secure redirect; follow-ups act on the PaymentIntent.
 * Holds the card's digits: never logged, dropped once sent.
 */
export function formOf(req: ConnectorRequest, options: { multicapture?: boolean } = {}): { path: string; body: URLSearchParams } {
  const body = new URLSearchParams();
  const amount = () => pspMinorUnits(req.amount, stripeCurrencies);
  const ref = req.originalReference;
  if (req.operation === 'authorize' || req.operation === 'sale') {
    const card = req.card;
    if (!card) throw new Error(`${req.operation} needs card data`);
    body.set('amount', String(amount()));
    body.set('currency', req.amount.currency.toLowerCase());
    body.set('confirm', 'true');
    body.set('capture_method', req.operation === 'authorize' ? 'manual' : 'automatic');
    body.set('payment_method_types[]', 'card');
    body.set('payment_method_data[type]', 'card');
    body.set('payment_method_data[card][number]', card.pan.reveal());
    body.set('payment_method_data[card][exp_month]', String(Number(card.expiryMonth)));
    body.set('payment_method_data[card][exp_year]', card.expiryYear.length === 2 ? `20${card.expiryYear}` : card.expiryYear);
    if (card.cvv !== undefined) body.set('payment_method_data[card][cvc]', card.cvv.reveal());
    if (card.holder !== undefined) body.set('payment_method_data[billing_details][name]', card.holder);
    setShopper(body, req);
    if (req.operation === 'authorize') body.set('payment_method_options[card][request_multicapture]', 'if_available');
    body.set(`metadata[${attemptKey}]`, req.attemptId);
    // Stripe's dashboard shows metadata and its search finds it: the merchant's order and invoice.
    const refs = req.merchantReferences;
    if (refs?.order !== undefined) body.set(`metadata[${merchantReferenceKey}]`, clipText(refs.order, 500));
    if (refs?.invoice !== undefined) body.set(`metadata[${merchantInvoiceKey}]`, clipText(refs.invoice, 500));
    // A merchant-initiated charge of a stored card: the shopper is away, so Stripe flags it to the
    // issuer as such (exempt from 3-D Secure) and answers a card that still wants authentication
    // with a decline (authentication_required), never an action nobody would take.
    if (req.merchantInitiated) body.set('off_session', 'true');
    else if (req.returnUrl !== undefined && !req.authentication) body.set('return_url', req.returnUrl);
    // Nobody to send to 3-D Secure: Stripe declines rather than asking for an action.
    else body.set('error_on_requires_action', 'true');
    // The first charge of a card kept on file: Stripe asks the issuer to allow later charges without
    // the shopper, or, kept only for the shopper's own later payments, with them there.
    setCryptogram(body, req);
    if (req.storedCredential?.use === 'initial') body.set('setup_future_usage', req.storedCredential.type === 'card_on_file' ? 'on_session' : 'off_session');
    return { path: '/v1/payment_intents', body };
  }
  if (!ref || !/^pi_[A-Za-z0-9_]{1,250}$/.test(ref)) throw new Error(`${req.operation} needs the PaymentIntent of the payment`);
  switch (req.operation) {
    case 'capture': {
      const captured = String(amount());
      body.set('amount_to_capture', captured);
      // Not final where Stripe granted multicapture: a later capture may take more, and the engine
      // voids what is left when it is done. Elsewhere Stripe refuses `final_capture=false`: one
      // capture releases the rest of the hold (the engine's later void finds nothing left).
      if (options.multicapture !== false) body.set('final_capture', 'false');
      body.set(`metadata[${captureKey(req.attemptId)}]`, captured);
      return { path: `/v1/payment_intents/${ref}/capture`, body };
    }
    case 'void':
      return { path: `/v1/payment_intents/${ref}/cancel`, body };
    case 'refund':
      body.set('payment_intent', ref);
      body.set('amount', String(amount()));
      body.set(`metadata[${attemptKey}]`, req.attemptId);
      return { path: '/v1/refunds', body };
    default:
      throw new Error(`Stripe does not offer ${req.operation}`);
  }
}

/**
 * The PaymentIntent a shopper's return from Stripe names (Stripe appends `payment_intent`). One that
 * names none (a prefetch, a request made from the payment's id alone), or another than the
 * attempt's, is no return of Stripe's, and Stripe is not asked: each such request would spend a
 * call under the merchant's key.
 */
function namedIntent(back: ShopperReturn): string {
  const named = back.parameters.payment_intent;
  if (!named || !/^pi_[A-Za-z0-9_]{1,250}$/.test(named)) throw new ReturnNotOurs('Stripe\'s return names no PaymentIntent');
  if (back.pspReference !== undefined && named !== back.pspReference) throw new ReturnNotOurs('Stripe\'s return names another PaymentIntent');
  return named;
}

/**
 * A connector to Stripe's PaymentIntents API. Every call carries our attempt id as its
 * `Idempotency-Key`, so a retried call never charges twice; a lost answer is thrown (the attempt
 * becomes unknown) and `lookup` finds the attempt again by the metadata it carried.
 */
export function createStripeConnector(settings: StripeSettings, timeoutMs: number, now: () => number = Date.now): Connector {
  // The API version the connector reads its answers by (`latest_charge`, multicapture): without it
  // Stripe answers in the account's default version, whatever that is.
  const headers = { authorization: `Bearer ${settings.secretKey}`, accept: 'application/json', 'stripe-version': stripeApiVersion };
  const get = (path: string) => pspFetch(settings.baseUrl + path, { method: 'GET', headers, timeoutMs });
  const post = (path: string, body: URLSearchParams, idempotencyKey: string) => pspFetch(settings.baseUrl + path, {
    method: 'POST', timeoutMs, body: body.toString(),
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': idempotencyKey },
  });

  /** An answer as an outcome: the object itself, or the error Stripe answered (with its PaymentIntent, if any). */
  function outcomeOf(status: number, json: unknown, refund: boolean): Answer | undefined {
    if (!isObject(json)) return undefined;
    if (status < 300) return refund ? outcomeOfRefund(json) : outcomeOfIntent(json);
    if (status >= 500 || !isObject(json.error)) return undefined;
    const pi = isObject(json.error.payment_intent) ? json.error.payment_intent : undefined;
    if (status === 401 || status === 403) return { kind: 'declined', reason: 'provider_error', acquirerCode: `HTTP ${status}`, message: text(json.error.message), pspReference: undefined, details: {} };
    // 409: the same request is still running; idempotency_error: the key was used with other
    // parameters, and the first request under it may have charged. Neither is a decline to trust.
    if (status === 409 || status === 429 || json.error.type === 'idempotency_error') return undefined;
    return declineOfError(json.error, pi ? text(pi.id, 64) : undefined);
  }

  /** The PaymentIntent an error answer carries (Stripe attaches it to errors about one), if any. */
  function intentOfError(json: unknown): Record<string, unknown> | undefined {
    return isObject(json) && isObject(json.error) && isObject(json.error.payment_intent) ? json.error.payment_intent : undefined;
  }

  async function intent(id: string, withCharge = false): Promise<Record<string, unknown>> {
    const { status, json } = await get(`/v1/payment_intents/${encodeURIComponent(id)}${withCharge ? '?expand[]=latest_charge' : ''}`);
    if (status !== 200 || !isObject(json)) throw new Error(`Stripe answered HTTP ${status} for a PaymentIntent`);
    return json;
  }

  return {
    name: 'stripe',
    runsThreeDs: true,
    dedupesByKey: true,
    // An authorization is found by searching PaymentIntents, and Stripe's search indexes a new one
    // within about a minute (longer during incidents): ten minutes before "not found" counts.
    lookupLagMs: 10 * 60_000,
    pendingFollowUpsLast: true,
    operations,
    async execute(req) {
      // Multicapture is asked for `if_available` (Stripe grants it to some pricing plans and card
      // brands only): whether this PaymentIntent's charge has it decides how a capture is sent.
      const multicapture = req.operation === 'capture' && req.originalReference && /^pi_[A-Za-z0-9_]{1,250}$/.test(req.originalReference)
        // Unread (the read failed), it is sent as a capture that may be the only one, which Stripe
        // takes either way; its own answer then decides, as a revoked key's 401 does.
        ? await intent(req.originalReference, true).then(multicaptureOf, () => false) : undefined;
      let form: ReturnType<typeof formOf>;
      try { form = formOf(req, { multicapture }); } catch (err) {
        return { kind: 'declined', reason: 'not_supported', acquirerCode: undefined, message: (err as Error).message, pspReference: undefined, details: {} };
      }
      const { status, json } = await post(form.path, form.body, req.attemptId);
      const outcome = outcomeOf(status, json, req.operation === 'refund');
      if (!outcome) throw new Error(`Stripe answered HTTP ${status} without a result`);
      referencedApproval('Stripe', req.operation, outcome);
      // A PaymentIntent or refund for another amount than asked is not this request's answer (a
      // refund answers its own amount; a capture and a cancel answer the whole PaymentIntent).
      if ((req.operation === 'authorize' || req.operation === 'sale' || req.operation === 'refund') && outcome.kind !== 'declined' && isObject(json)) intentAsAsked(json, req.amount);
      // A capture or a cancel answers the PaymentIntent: its status says the operation happened.
      // A cancel of one already canceled is refused (payment_intent_unexpected_state) with the
      // PaymentIntent attached: the hold is gone all the same, which is what a void asks for (a
      // reversal sent again under a new key, or Stripe's own cancel of an expired authorization).
      const refusedFor = outcome.kind === 'declined' ? intentOfError(json) : undefined;
      if (req.operation === 'void' && outcome.kind === 'declined' && (outcome.acquirerCode === 'canceled' || refusedFor?.status === 'canceled')) {
        return { kind: 'approved', pspReference: outcome.pspReference, acquirerCode: 'canceled', details: { status: 'canceled' } };
      }
      // Captured without multicapture, the PaymentIntent released the rest with its capture: a void
      // of exactly that rest is done. (One captured in full released nothing: its void stays refused.)
      if (req.operation === 'void' && refusedFor?.status === 'succeeded' && refusedFor.amount_capturable === 0
        && typeof refusedFor.amount === 'number' && typeof refusedFor.amount_received === 'number'
        && refusedFor.amount - refusedFor.amount_received === pspMinorUnits(req.amount, stripeCurrencies)) {
        return { kind: 'approved', pspReference: outcome.pspReference, acquirerCode: 'succeeded', details: { status: 'succeeded' } };
      }
      // A capture without multicapture is the PaymentIntent's last: Stripe released the rest of the
      // hold with it, which the engine then records as released.
      if (req.operation === 'capture' && multicapture === false && outcome.kind === 'approved') {
        return { ...outcome, details: { ...outcome.details, RestReleased: 'true' } };
      }
      return outcome;
    },
    async lookup(attemptId, hint) {
      const operation = hint?.operation ?? 'authorize';
      if (operation === 'authorize' || operation === 'sale') {
        const query = new URLSearchParams({ query: `metadata['${attemptKey}']:'${attemptId}'` });
        const { status, json } = await get(`/v1/payment_intents/search?${query}`);
        if (status !== 200 || !isObject(json) || !Array.isArray(json.data)) throw new Error(`Stripe search answered HTTP ${status}`);
        const found = json.data.find(isObject);
        if (found && hint) intentAsAsked(found, hint.amount);
        const outcome = found ? outcomeOfIntent(found) : undefined;
        if (outcome) referencedApproval('Stripe', operation, outcome);
        return outcome;
      }
      const ref = hint?.originalReference;
      if (!ref) throw new Error(`a ${operation} is found only through its PaymentIntent`);
      if (operation === 'refund') {
        // Newest first, a hundred a page: an older refund is on a later page.
        let found: Record<string, unknown> | undefined;
        for (let page = 0, after: string | undefined; !found && page < 50; page++) {
          const query = new URLSearchParams({ payment_intent: ref, limit: '100', ...(after ? { starting_after: after } : {}) });
          const { status, json } = await get(`/v1/refunds?${query}`);
          if (status !== 200 || !isObject(json) || !Array.isArray(json.data)) throw new Error(`Stripe refunds answered HTTP ${status}`);
          const refunds = json.data.filter(isObject);
          found = refunds.find((r) => isObject(r.metadata) && r.metadata[attemptKey] === attemptId);
          after = text(refunds.at(-1)?.id, 255);
          if (json.has_more !== true || !after) break;
        }
        if (found && hint) intentAsAsked(found, hint.amount);
        return found ? outcomeOfRefund(found) : undefined;
      }
      const pi = await intent(ref);
      const approved: Answer = { kind: 'approved', pspReference: text(pi.id, 64), acquirerCode: text(pi.status, 64), details: {} };
      if (operation === 'capture') {
        const captured = isObject(pi.metadata) ? pi.metadata[captureKey(attemptId)] : undefined;
        if (captured === undefined) return undefined;
        // The amount this attempt's capture recorded: another than asked is not this attempt's answer.
        const asked = hint && String(pspMinorUnits(hint.amount, stripeCurrencies));
        if (hint && captured !== asked) {
          throw new Error(`Stripe recorded a capture of ${String(captured)} (its minor units) for this attempt where ${hint.amount.currency} ${asked} was asked`);
        }
        // Found later (its answer was lost), a capture says what its answer would have: that the
        // PaymentIntent released the rest of its hold (it succeeded with less received than authorized).
        const released = pi.status === 'succeeded' && pi.amount_capturable === 0 && typeof pi.amount === 'number'
          && typeof pi.amount_received === 'number' && pi.amount > pi.amount_received;
        return released ? { ...approved, details: { RestReleased: 'true' } } : approved;
      }
      if (operation === 'void') return pi.status === 'canceled' ? approved : undefined;
      throw new Error(`Stripe does not offer ${operation}`);
    },
    returnNames: (back) => { try { namedIntent(back); return true; } catch { return false; } },
    async complete(back) {
      const id = namedIntent(back);
      const pi = await intent(id);
      // The PaymentIntent must be this attempt's (our attempt id is in its metadata): an id from the
      // shopper's browser could name another payment's.
      if (!isObject(pi.metadata) || pi.metadata[attemptKey] !== back.attemptId) throw new ReturnNotOurs('Stripe\'s return names another payment');
      const outcome = outcomeOfIntent(pi);
      if (!outcome) throw new Error('Stripe answered a PaymentIntent without a status');
      referencedApproval('Stripe', 'authorize', outcome);
      if (outcome.kind !== 'declined') intentAsAsked(pi, back.amount);
      // Still asked to act (`requires_action`): the shopper has not finished 3-D Secure, which
      // they may still do; one who gave up has Stripe's `requires_payment_method`, a decline.
      return outcome;
    },
    async inbound(notification): Promise<InboundResult> {
      if (!verifySignature(notification.headers['stripe-signature'], notification.body, settings.webhookSecret, Math.floor(now() / 1000))) {
        return { authentic: false, settled: [], answer: '' };
      }
      let event: unknown;
      try { event = JSON.parse(notification.body); } catch { event = undefined; }
      const object = isObject(event) && isObject(event.data) && isObject(event.data.object) ? event.data.object : undefined;
      const attemptId = object && isObject(object.metadata) ? object.metadata[attemptKey] : undefined;
      const type = isObject(event) && typeof event.type === 'string' ? event.type : '';
      // A PaymentIntent's event carries its state when the event happened, and Stripe delivers
      // events late and out of order: only those that report how the payment ended settle it.
      // `payment_intent.created` holds the PaymentIntent from before its confirmation (no status
      // but `requires_payment_method`, no error), which read as a decline would end an
      // authorization Stripe then approves; the others report steps (processing, requires_action).
      const ends = /^payment_intent\.(succeeded|amount_capturable_updated|payment_failed|canceled)$/.test(type);
      const outcome = object?.object === 'payment_intent' ? (ends ? outcomeOfIntent(object) : undefined)
        : object?.object === 'refund' ? outcomeOfRefund(object) : undefined;
      // A refund can fail after Stripe reported it succeeded (the card was closed meanwhile): that
      // takes the refund back, even one already settled approved.
      const reverses = object?.object === 'refund' && (object.status === 'failed' || object.status === 'canceled');
      // Only final answers settle: a PaymentIntent still asking for action waits for its shopper.
      // The PaymentIntent's amount is its authorization's; a refund's its own: each checked against what its attempt asked.
      const stated = object && outcome?.kind === 'approved' ? statedAmount(object.amount, object.currency, stripeCurrencies) : {};
      const settled = typeof attemptId === 'string' && outcome && outcome.kind !== 'pending' ? [{ attemptId, outcome, ...(reverses ? { reverses: true } : {}), ...stated }] : [];
      // A dispute (Stripe's chargeback) moves money no attempt of ours settles: the funds it takes
      // and gives back are recorded on the payment; its opening and closing are told to an operator.
      const eventId = isObject(event) ? text(event.id, 255) : undefined;
      const created = isObject(event) && typeof event.created === 'number' ? event.created * 1000 : undefined;
      const dispute = object?.object === 'dispute' && eventId ? disputeOf(type, eventId, object, created) : undefined;
      const unrecorded = object?.object === 'dispute' && !dispute && /^charge\.dispute\.(created|closed|funds_withdrawn|funds_reinstated)$/.test(type)
        ? [{ event: type, pspReference: text(object.payment_intent, 255) ?? text(object.charge, 255), amount: `${String(object.currency)} ${String(object.amount)} (Stripe minor units)` }] : [];
      // A refund without our attempt's key was made in Stripe's Dashboard (or by another client of
      // the account): money back to the shopper that no operation of ours records. Told to an
      // operator, once per refund (its creation), never settled against an attempt of ours.
      if (object?.object === 'refund' && typeof attemptId !== 'string' && type === 'refund.created') {
        unrecorded.push({ event: type, pspReference: text(object.payment_intent, 255) ?? text(object.charge, 255), amount: `${String(object.currency)} ${String(object.amount)} (Stripe minor units)` });
      }
      return { authentic: true, settled, ...(dispute ? { disputes: [dispute] } : {}), ...(unrecorded.length > 0 ? { unrecorded } : {}), answer: '{"received":true}' };
    },
  };
}

/**
 * The money a dispute event moves: `funds_withdrawn` is the chargeback, `funds_reinstated` its
 * reversal. The payment is named by its PaymentIntent, which our approval recorded.
 */
function disputeOf(type: string, eventId: string, object: Record<string, unknown>, occurredAt: number | undefined): PspDispute | undefined {
  const kind = type === 'charge.dispute.funds_withdrawn' ? 'chargeback' : type === 'charge.dispute.funds_reinstated' ? 'chargeback_reversal' : undefined;
  const paymentReference = text(object.payment_intent, 64);
  const disputeReference = text(object.id, 64);
  const amount = isoMinorUnits(object.amount, object.currency, stripeCurrencies);
  if (!kind || !paymentReference || !disputeReference || !amount || amount.amount <= 0) return undefined;
  return { kind, event: type, eventId, paymentReference, disputeReference, amount, ...(occurredAt !== undefined ? { occurredAt } : {}) };
}

/** Whether a PaymentIntent (its latest charge expanded) may be captured in parts. */
function multicaptureOf(pi: Record<string, unknown>): boolean {
  const charge = isObject(pi.latest_charge) ? pi.latest_charge : undefined;
  const card = charge && isObject(charge.payment_method_details) && isObject(charge.payment_method_details.card) ? charge.payment_method_details.card : undefined;
  return card !== undefined && isObject(card.multicapture) && card.multicapture.status === 'available';
}

/** The registry's entry: each account's connector from its own settings. */
export const stripeFactory: ConnectorFactory = httpConnectorFactory({ name: 'stripe', operations, secretSettings, identitySettings: ['baseUrl'], parseSettings, takesNotifications: true, connect: (settings, timeoutMs) => createStripeConnector(settings, timeoutMs) });
