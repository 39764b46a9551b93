import { referencedApproval } from '../referenced-approval.ts';
import { clipText } from '../../runtime/utf8.ts';
import { createHash } from 'node:crypto';
import type { Money } from '../../money/money.ts';
import type { Outcome } from '../outcome.ts';
import { answeredAsAsked, isoMinorUnits, pspMinorUnits, statedAmount, type PspCurrencyTable } from '../minor-units.ts';
import { NoStatusApi, ReturnNotOurs, type Connector, type ConnectorFactory, type ConnectorOperation, type ConnectorRequest, type InboundResult, type PostalAddress, type PspDispute, type ShopperBrowser, type StoredCredential } from '../connector.ts';
import { statementTextFor } from '../statement-text.ts';
import { isObject, pspFetch, text } from '../http.ts';
import { httpConnectorFactory } from '../refusing.ts';
import { outcomeOfPaymentResponse, refusalReasonOf } from './outcomes.ts';
import { parseSettings, secretSettings, type AdyenSettings } from './settings.ts';
import { itemsOf, verifyItem, type NotificationItem } from './webhook.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

/** What Adyen's Checkout API offers this connector: card payments and their modifications. */
const operations: readonly ConnectorOperation[] = ['authorize', 'sale', 'capture', 'void', 'refund'];

const modificationPaths: Partial<Record<ConnectorOperation, string>> = { capture: 'captures', void: 'cancels', refund: 'refunds' };

/**
 * Where Adyen's currency table departs from ISO 4217 (its "differs from standard" rows): Chilean
 * pesos and Icelandic krónur in hundredths, Cape Verde escudos and Indonesian rupiah whole.
 */
export const adyenCurrencies: PspCurrencyTable = { exponents: { CLP: 2, CVE: 0, IDR: 0, ISK: 2 } };

/**
 * The request an operation is sent as. Payments carry the card (`scheme`), our attempt id as
 * `reference` (what webhooks name it by), manual capture for authorizations and the return URL
 * of our PSP-return endpoint for its 3-D Secure redirect; a 3-D Secure result the engine already
 * holds goes as `mpiData`. Modifications reference the payment's pspReference and carry our
 * attempt id as their `reference`. Holds the card's digits: never logged, dropped once sent.
 */
export function requestOf(settings: AdyenSettings, req: ConnectorRequest): { path: string; body: Record<string, unknown> } {
  const amount = { value: pspMinorUnits(req.amount, adyenCurrencies), currency: req.amount.currency };
  const modification = modificationPaths[req.operation];
  if (modification) {
    if (!req.originalReference || !/^[A-Za-z0-9]{1,64}$/.test(req.originalReference)) throw new Error(`${req.operation} needs Adyen's pspReference of the payment`);
    const body: Record<string, unknown> = { merchantAccount: settings.merchantAccount, reference: req.attemptId };
    if (req.operation !== 'void') body.amount = amount;
    return { path: `/payments/${req.originalReference}/${modification}`, body };
  }
  if (req.operation !== 'authorize' && req.operation !== 'sale') throw new Error(`Adyen does not offer ${req.operation}`);
  const card = req.card;
  if (!card) throw new Error(`${req.operation} needs card data`);
  const paymentMethod: Record<string, unknown> = {
    type: 'scheme', number: card.pan.reveal(), expiryMonth: card.expiryMonth,
    expiryYear: card.expiryYear.length === 2 ? `20${card.expiryYear}` : card.expiryYear,
  };
  if (card.cvv !== undefined) paymentMethod.cvc = card.cvv.reveal();
  if (card.holder !== undefined) paymentMethod.holderName = card.holder;
  const body: Record<string, unknown> = {
    merchantAccount: settings.merchantAccount, amount, reference: req.attemptId, paymentMethod,
    // A merchant-initiated charge of a stored card is continuous authority: no shopper, no 3-D Secure.
    // A charge of a card kept on file (the first, which stores it, too) names its recurring model,
    // and a later one the scheme's id of the first transaction, where the merchant gave it.
    shopperInteraction: req.merchantInitiated ? 'ContAuth' : 'Ecommerce',
    // A later payment the cardholder makes with the kept card is CardOnFile whatever the card is kept
    // for: Subscription and UnscheduledCardOnFile name charges the merchant makes.
    ...(req.storedCredential || req.merchantInitiated ? { recurringProcessingModel: cardholderUse(req) ? 'CardOnFile' : recurringModelOf(req.storedCredential?.type) } : {}),
    ...(req.storedCredential?.schemeTransactionId && !cardholderUse(req) ? { additionalData: { networkTxReference: req.storedCredential.schemeTransactionId } } : {}),
    channel: 'Web',
    // Adyen requires a return URL; without a shopper to come back no authentication is attempted.
    returnUrl: req.returnUrl ?? `${settings.baseUrl}/no-shopper`,
    // A redirect the engine passes through, never Adyen's native 3-D Secure 2 SDK flow.
    authenticationData: req.returnUrl !== undefined && !req.authentication
      ? { threeDSRequestData: { nativeThreeDS: 'disabled' } }
      : { attemptAuthentication: 'never' },
  };
  Object.assign(body, shopperFieldsOf(req));
  // Adyen's field for the merchant's order, which links its attempts (a retry, the cascade's) in its reports.
  const order = req.merchantReferences?.order ?? req.merchantReferences?.invoice;
  if (order !== undefined) body.merchantOrderReference = clipText(order, 1000);
  if (req.operation === 'authorize') body.additionalData = { ...(body.additionalData as Record<string, string> | undefined), manualCapture: 'true' };
  else body.captureDelayHours = 0;
  if (req.authentication) {
    // Adyen's ThreeDSecureData: directoryResponse is the ARes's transStatus (C when it asked for a
    // challenge), authenticationResponse the challenge's result, left out when there was none.
    const a = req.authentication;
    body.mpiData = {
      directoryResponse: a.flow === 'challenge' ? 'C' : a.status,
      // 3-D Secure 1 (a merchant's own server may still speak it) always has a PARes status.
      ...(a.flow === 'challenge' || a.version?.startsWith('1.') ? { authenticationResponse: a.status } : {}),
      ...(a.eci ? { eci: a.eci } : {}),
      ...(a.version ? { threeDSVersion: a.version } : {}),
      // The merchant's own server's authentication: the issuer's cryptogram and its ids.
      ...(a.authenticationValue !== undefined ? { cavv: a.authenticationValue } : {}),
      ...(a.dsTransactionId !== undefined ? { dsTransID: a.dsTransactionId } : {}),
      ...(a.xid !== undefined ? { xid: a.xid } : {}),
    };
  }
  return { path: '/payments', body };
}

/** Adyen's `shopperStatement`: the characters it allows, cut to a statement line's 22 (longer, banks cut it anyway). */
const adyenStatement = { allowed: /^[A-Za-z0-9 .,'_\-?+*/]$/, max: 22 };

/**
 * The shopper for Adyen's risk checks and the issuer's 3-D Secure 2 decision. Adyen refuses the
 * whole payment (422) over an incomplete address or browser object, so each goes only whole: an
 * address with its street, city, postcode and country (the house number is in the merchant's
 * street line, so `houseNumberOrName` says "NA", as Adyen asks where there is none apart), the
 * browser with the eight values Adyen requires, each a number or flag where it wants one.
 */
function shopperFieldsOf(req: ConnectorRequest): Record<string, unknown> {
  const s = req.shopper;
  const out: Record<string, unknown> = {};
  if (s?.email !== undefined) out.shopperEmail = s.email;
  if (s?.ip !== undefined) out.shopperIP = s.ip;
  const billing = addressOf(s?.billing);
  if (billing) out.billingAddress = billing;
  const delivery = addressOf(s?.shipping);
  if (delivery) {
    out.deliveryAddress = {
      ...delivery, ...(s?.shipping?.givenName !== undefined ? { firstName: s.shipping.givenName } : {}),
      ...(s?.shipping?.surname !== undefined ? { lastName: s.shipping.surname } : {}),
    };
  }
  const browser = browserInfoOf(s?.browser);
  if (browser) out.browserInfo = browser;
  const statement = req.statementText !== undefined ? statementTextFor(req.statementText, adyenStatement) : undefined;
  if (statement !== undefined) out.shopperStatement = statement;
  return out;
}

/**
 * An address as Adyen takes one, or none: Adyen wants the state in the US and Canada, and a postal
 * code of at most ten characters (five digits in the US, where a ZIP+4 gives its first five).
 */
function addressOf(a: PostalAddress | undefined): Record<string, string> | undefined {
  if (!a?.street1 || !a.city || !a.postcode || !a.country) return undefined;
  if ((a.country === 'US' || a.country === 'CA') && !a.state) return undefined;
  const postalCode = a.country === 'US' ? /^([0-9]{5})(-?[0-9]{4})?$/.exec(a.postcode.trim())?.[1] : a.postcode.length <= 10 ? a.postcode : undefined;
  if (postalCode === undefined) return undefined;
  return {
    street: [a.street1, a.street2].filter((l) => l !== undefined).join(' ').replace(/\s+/g, ' ').trim(), houseNumberOrName: 'NA',
    city: a.city, postalCode, country: a.country, ...(a.state !== undefined ? { stateOrProvince: a.state } : {}),
  };
}

function browserInfoOf(b: ShopperBrowser | undefined): Record<string, unknown> | undefined {
  if (!b) return undefined;
  const whole = (v: string | undefined) => v !== undefined && /^-?[0-9]{1,6}$/.test(v.trim()) ? Number(v) : undefined;
  const flag = (v: string | undefined) => v === 'true' ? true : v === 'false' ? false : undefined;
  const info = {
    acceptHeader: b.acceptHeader, userAgent: b.userAgent, language: b.language, colorDepth: whole(b.screenColorDepth),
    screenHeight: whole(b.screenHeight), screenWidth: whole(b.screenWidth), timeZoneOffset: whole(b.timezone), javaEnabled: flag(b.javaEnabled),
  };
  if (Object.values(info).some((v) => v === undefined)) return undefined;
  const script = flag(b.javascriptEnabled);
  return { ...info, ...(script !== undefined ? { javaScriptEnabled: script } : {}) };
}

/** What Adyen's AUTHORISATION item answers: a payment's opening (or a stored card's charge). */
const authorisations: readonly ConnectorOperation[] = ['authorize', 'sale', 'rebill'];
/**
 * What each modification item answers. A CAPTURE may also confirm a sale's own capture; the
 * others only the modification of their name.
 */
const modificationSettles: Readonly<Record<string, readonly ConnectorOperation[]>> = {
  CAPTURE: ['capture', 'sale'], CAPTURE_FAILED: ['capture', 'sale'], CANCELLATION: ['void'],
  REFUND: ['refund'], REFUND_FAILED: ['refund'], REFUNDED_REVERSED: ['refund'],
};

/**
 * The neutral outcome of a modification's answer: Adyen only says it received it (`status:
 * received`); the CAPTURE, CANCELLATION or REFUND webhook settles it later.
 */
function outcomeOfModification(json: Record<string, unknown>): Answer | undefined {
  if (json.status !== 'received') return undefined;
  return { kind: 'pending', action: undefined, pspReference: text(json.pspReference, 64), acquirerCode: 'received', details: {} };
}

/** An Adyen error answer (`ServiceError`) the request caused: a decline, since nothing was processed. */
function declineOfError(status: number, json: unknown): Answer | undefined {
  // Rate limited: nothing was processed yet, and the request may go through later; not a decline.
  if (!isObject(json) || status < 400 || status >= 500 || status === 429) return undefined;
  const errorCode = text(json.errorCode, 32);
  const reason = status === 401 || status === 403 ? 'provider_error' : 'invalid_request';
  return { kind: 'declined', reason, acquirerCode: errorCode ? `error:${errorCode}` : `HTTP ${status}`, message: text(json.message), pspReference: text(json.pspReference, 64), details: {} };
}

/** A later payment the cardholder makes with a kept card (not the one that stored it, nor the merchant's). */
const cardholderUse = (req: ConnectorRequest) => !req.merchantInitiated && req.storedCredential?.use === 'subsequent' && req.storedCredential.initiatedBy === 'cardholder';

/** Adyen's name of what a card-on-file charge is: a subscription's (a fixed schedule), or unscheduled. */
function recurringModelOf(type: StoredCredential['type'] | undefined): 'Subscription' | 'UnscheduledCardOnFile' | 'CardOnFile' {
  if (type === 'card_on_file') return 'CardOnFile';
  return type === 'recurring' || type === 'installment' ? 'Subscription' : 'UnscheduledCardOnFile';
}

/**
 * Adyen's events of a chargeback's course. Those that move money are recorded on the payment
 * (`CHARGEBACK` and the issuer's `SECOND_CHARGEBACK` take it, `CHARGEBACK_REVERSED` gives it back);
 * the rest are told to an operator: a dispute opened or asking for an answer (a request for
 * information, a pre-arbitration, the issuer's comments, a defence period ending), and a
 * pre-arbitration's end, whose money Adyen's own description leaves unsaid.
 */
const disputeKinds: Readonly<Record<string, PspDispute['kind']>> = { CHARGEBACK: 'chargeback', SECOND_CHARGEBACK: 'chargeback', CHARGEBACK_REVERSED: 'chargeback_reversal' };
const disputeEvents = new Set([
  ...Object.keys(disputeKinds), 'NOTIFICATION_OF_CHARGEBACK', 'REQUEST_FOR_INFORMATION', 'PREARBITRATION_OPEN', 'ISSUER_COMMENTS',
  'DISPUTE_DEFENSE_PERIOD_ENDED', 'PREARBITRATION_LOST', 'PREARBITRATION_WON',
]);

/**
 * Adyen's events that move or release money the gateway never asked to move, and that no attempt of
 * ours settles: a cancel-or-refund or a refund with data made outside the gateway, a technical
 * cancel, a manual review's rejection (Adyen cancels the payment, or refunds it if captured), an
 * authorised amount adjusted, a refund voided, an authorisation expired. Each is told
 * to an operator as money the books do not hold; acknowledged in silence, it was lost from view.
 * Not POSTPONED_REFUND: it may be the gateway's own refund of a sale not captured yet, which its
 * later REFUND item settles.
 */
const movesMoneyUnsettled = new Set([
  'CANCEL_OR_REFUND', 'REFUND_WITH_DATA', 'TECHNICAL_CANCEL', 'MANUAL_REVIEW_REJECT', 'AUTHORISATION_ADJUSTMENT',
  'VOID_PENDING_REFUND', 'EXPIRE',
]);

/**
 * The chargeback or reversal an item records: Adyen names the payment by `originalReference` and
 * the dispute by the item's own `pspReference`. Its reversal and second chargeback may carry no
 * `originalReference` (as Adyen's own examples show them): the dispute's reference names them. An
 * amount that cannot be read is not recorded.
 */
export function disputeOfItem(i: NotificationItem): PspDispute | undefined {
  const kind = disputeKinds[i.eventCode];
  const amount = isoMinorUnits(i.value, i.currency, adyenCurrencies);
  if (!kind || i.success !== 'true' || !amount || amount.amount <= 0) return undefined;
  if (!i.originalReference && i.eventCode === 'CHARGEBACK') return undefined;
  const occurredAt = i.eventDate ? Date.parse(i.eventDate) : NaN;
  return {
    kind, event: i.eventCode, eventId: `${i.eventCode}@${i.eventDate ?? ''}`, paymentReference: i.originalReference, disputeReference: i.pspReference, amount,
    ...(Number.isNaN(occurredAt) ? {} : { occurredAt }),
  };
}

/**
 * What one webhook item settles: our attempt (its `merchantReference`) and its outcome. Without
 * multiple partial captures on the account, Adyen cancels what a partial capture leaves of the
 * authorization: the CAPTURE item that confirms it says so (`RestReleased`), and only then does the
 * engine release the rest in the books (the capture's answer only said `received`).
 */
export function settlementOfItem(i: NotificationItem, account: Pick<AdyenSettings, 'multiplePartialCaptures'> = {}): { attemptId: string; outcome: Answer; reverses?: boolean; amount?: Money | 'unreadable'; settles?: readonly ConnectorOperation[] } | undefined {
  const success = i.success === 'true';
  const details: Record<string, string> = { eventCode: i.eventCode };
  switch (i.eventCode) {
    case 'AUTHORISATION': {
      if (success) {
        // The amount the item says was authorised: checked against the attempt's before it settles it.
        return { attemptId: i.merchantReference, settles: authorisations, outcome: { kind: 'approved', pspReference: i.pspReference, acquirerCode: 'Authorised', details }, ...statedAmount(i.value, i.currency, adyenCurrencies) };
      }
      const refusal = refusalReasonOf(undefined, i.reason);
      return { attemptId: i.merchantReference, settles: authorisations, outcome: { kind: 'declined', reason: refusal.reason, acquirerCode: refusal.code !== undefined ? `Refused:${refusal.code}` : 'Refused', message: text(i.reason), pspReference: i.pspReference, details } };
    }
    case 'CAPTURE': case 'CANCELLATION': case 'REFUND': case 'CAPTURE_FAILED': case 'REFUND_FAILED': case 'REFUNDED_REVERSED': {
      // REFUNDED_REVERSED: the refunded money came back to the merchant's account (the shopper's
      // card or account refused it): the refund is taken back as a failed one would be.
      const failed = i.eventCode.endsWith('_FAILED') || i.eventCode === 'REFUNDED_REVERSED';
      const ok = success && !failed;
      // Without multiple partial captures Adyen cancels the rest with a capture it accepts. A
      // CAPTURE_FAILED is sent only for a capture Adyen accepted, so it says so too: it may arrive
      // before its CAPTURE (Adyen does not order its items), and the rest is gone all the same.
      if (((ok && i.eventCode === 'CAPTURE') || i.eventCode === 'CAPTURE_FAILED') && account.multiplePartialCaptures !== true) details.RestReleased = 'true';
      return {
        attemptId: i.merchantReference,
        // A cancellation or refund made in Adyen's Customer Area names the payment's own reference:
        // it is not the answer of the payment's authorization (nor of any attempt of ours).
        settles: modificationSettles[i.eventCode],
        // The scheme rejected a capture or refund: it may come days after Adyen's CAPTURE or REFUND
        // item confirmed it, and then takes that back.
        ...(failed ? { reverses: true } : {}),
        // What a capture or refund item confirms moved: checked against what its attempt asked.
        ...(ok && i.eventCode !== 'CANCELLATION' ? statedAmount(i.value, i.currency, adyenCurrencies) : {}),
        outcome: ok
          ? { kind: 'approved', pspReference: i.pspReference, acquirerCode: i.eventCode, details }
          : { kind: 'declined', reason: 'provider_error', acquirerCode: i.eventCode, message: text(i.reason), pspReference: i.pspReference, details },
      };
    }
    default: return undefined;
  }
}

/**
 * A connector to Adyen's Checkout API v71. A lost answer (timeout, broken connection, a server
 * error) is thrown, so the engine records the attempt unknown; Adyen has no status API to ask, so
 * `lookup` cannot settle it and the account's webhook does (AUTHORISATION names our attempt by its
 * reference). Modifications are confirmed the same way. Every request carries our attempt id as
 * its `Idempotency-Key`, so a retried call never charges twice.
 */
export function createAdyenConnector(settings: AdyenSettings, timeoutMs: number): Connector {
  const send = (path: string, body: Record<string, unknown>, idempotencyKey: string) => pspFetch(settings.baseUrl + path, {
    method: 'POST', timeoutMs, body: JSON.stringify(body),
    headers: { 'x-api-key': settings.apiKey, 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': idempotencyKey },
  });
  return {
    name: 'adyen',
    runsThreeDs: true,
    dedupesByKey: true,
    statusApi: false,
    operations,
    async execute(req) {
      let request: ReturnType<typeof requestOf>;
      try { request = requestOf(settings, req); } catch (err) {
        // Refused before anything was sent: a decline, not an unknown the reconciler would chase.
        return { kind: 'declined', reason: 'not_supported', acquirerCode: undefined, message: (err as Error).message, pspReference: undefined, details: {} };
      }
      const { status, json } = await send(request.path, request.body, req.attemptId);
      const outcome = isObject(json) && status < 300
        ? (request.path === '/payments' ? outcomeOfPaymentResponse(json) : outcomeOfModification(json))
        : declineOfError(status, json);
      if (!outcome) throw new Error(`Adyen answered HTTP ${status} without a result`);
      referencedApproval('Adyen', req.operation, outcome);
      if (outcome.kind !== 'declined' && isObject(json) && isObject(json.amount)) {
        answeredAsAsked('Adyen', { value: pspMinorUnits(req.amount, adyenCurrencies), currency: req.amount.currency }, { value: json.amount.value, currency: json.amount.currency });
      }
      return outcome;
    },
    async lookup() {
      throw new NoStatusApi('Adyen');
    },
    returnNames: (back) => typeof back.parameters.redirectResult === 'string' && back.parameters.redirectResult.length > 0 && back.parameters.redirectResult.length <= 16_384,
    async complete(back) {
      const redirectResult = back.parameters.redirectResult;
      if (!redirectResult || redirectResult.length > 16_384) throw new ReturnNotOurs('Adyen\'s return carries no redirectResult');
      // A key of its own per result: a reload with the same result is the same request, retried
      // safely; another result (a forged one from the payment's id, then the shopper's genuine one)
      // is another request, which Adyen would otherwise answer with the first one's answer.
      const key = `${back.attemptId}-d-${createHash('sha256').update(redirectResult).digest('hex').slice(0, 16)}`;
      const { status, json } = await send('/payments/details', { details: { redirectResult } }, key);
      // An error answer names no payment: a result Adyen cannot read (forged, or not this
      // attempt's), the same call still in progress (a reload while the first runs: 704), or the
      // account's credentials refused. Nothing was learnt about the attempt, which keeps awaiting
      // the shopper's genuine return, Adyen's notification, or its challenge's expiry; taken as a
      // decline, it ended a payment Adyen may authorize, and took no genuine return after it.
      if (!(isObject(json) && status < 300)) {
        const code = isObject(json) ? text(json.errorCode, 32) : undefined;
        throw new ReturnNotOurs(`Adyen refused the details of the shopper's return (HTTP ${status}${code ? `, error ${code}` : ''})`);
      }
      const outcome = outcomeOfPaymentResponse(json);
      if (!outcome) throw new Error(`Adyen answered HTTP ${status} without a result`);
      referencedApproval('Adyen', 'authorize', outcome);
      // The redirectResult comes through the shopper's browser: it must be this attempt's payment's,
      // or a shopper could finish an expensive attempt with a cheap payment's result. The details
      // answer names its payment by our reference (the attempt id); the redirect answer before it had
      // no pspReference to compare (Adyen gives it only now), so the reference is what binds them.
      // (Adyen's description leaves merchantReference optional: an answer without it is bound by the
      // pspReference where the attempt has one.)
      const reference = json.merchantReference;
      if ((reference !== undefined && reference !== back.attemptId)
        || (back.pspReference !== undefined && outcome.pspReference !== undefined && outcome.pspReference !== back.pspReference)) {
        throw new ReturnNotOurs('Adyen\'s return names another payment');
      }
      // The same result for another amount is another payment's, or money moved as nobody asked.
      if (outcome.kind !== 'declined' && isObject(json.amount)) {
        answeredAsAsked('Adyen', { value: pspMinorUnits(back.amount, adyenCurrencies), currency: back.amount.currency }, { value: json.amount.value, currency: json.amount.currency });
      }
      // The shopper is back: another redirect would loop, so only a final answer or a wait stands.
      if (outcome.kind === 'pending' && outcome.redirect) {
        return { kind: 'declined', reason: 'authentication_error', acquirerCode: outcome.acquirerCode, message: 'a second 3-D Secure action', pspReference: outcome.pspReference, details: outcome.details };
      }
      return outcome;
    },
    async inbound(notification): Promise<InboundResult> {
      const items = itemsOf(notification.body);
      // One item that fails its signature refuses the whole batch: Adyen retries it, and nothing forged settles.
      if (!items || !items.every((i) => verifyItem(i, settings.hmacKey))) return { authentic: false, settled: [], answer: '' };
      const mine = items.filter((i) => i.merchantAccountCode === settings.merchantAccount);
      const settled = mine.map((i) => settlementOfItem(i, settings)).filter((s) => s !== undefined);
      const read = mine.map((i) => ({ i, dispute: disputeOfItem(i) }));
      const disputes = read.flatMap((x) => (x.dispute ? [x.dispute] : []));
      const unrecorded = read.filter((x) => (disputeEvents.has(x.i.eventCode) && !x.dispute) || (movesMoneyUnsettled.has(x.i.eventCode) && x.i.success === 'true')).map((x) => x.i)
        .map((i) => ({ event: i.eventCode, pspReference: i.originalReference ?? i.pspReference, amount: `${i.currency} ${i.value} (Adyen minor units)` }));
      return { authentic: true, settled, ...(disputes.length > 0 ? { disputes } : {}), ...(unrecorded.length > 0 ? { unrecorded } : {}), answer: '[accepted]' };
    },
  };
}

/** The registry's entry: each account's connector from its own settings. */
export const adyenFactory: ConnectorFactory = httpConnectorFactory({ name: 'adyen', operations, secretSettings, identitySettings: ['baseUrl', 'merchantAccount'], parseSettings, takesNotifications: true, connect: (settings, timeoutMs) => createAdyenConnector(settings, timeoutMs) });
