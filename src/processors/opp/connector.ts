import { referencedApproval } from '../referenced-approval.ts';
import { exponentOf, formatMajorUnits, isCurrency, parseMajorUnits, type Currency, type Money } from '../../money/money.ts';
import { riskScoreDetail, type Outcome, type ShopperRedirect } from '../outcome.ts';
import { ReturnNotOurs, type Connector, type ConnectorFactory, type ConnectorOperation, type ConnectorRequest, type ShopperReturn } from '../connector.ts';
import { classifyResultCode, declineReasonOf } from '../result-codes.ts';
import { isObject, pspFetch, shopperPageUrl } from '../http.ts';
import { httpConnectorFactory } from '../refusing.ts';
import { parseSettings, secretSettings, type OppSettings } from './settings.ts';
import { clipText } from '../../runtime/utf8.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

/** The acquirer's payment type for each operation; initial ones open a payment, the rest reference one. */
export const paymentTypeOf: Readonly<Record<ConnectorOperation, { type: string; initial: boolean }>> = {
  authorize: { type: 'PA', initial: true },
  sale: { type: 'DB', initial: true },
  credit: { type: 'CD', initial: true },
  capture: { type: 'CP', initial: false },
  void: { type: 'RV', initial: false },
  refund: { type: 'RF', initial: false },
  rebill: { type: 'RB', initial: false },
};

const operations = Object.keys(paymentTypeOf) as ConnectorOperation[];
/** The platform's pending codes that may change after several days (its "pending (long)" family). */
const longPending = /^(800\.400\.5|100\.400\.500)/;

/** The acquirer's result details worth keeping beside an attempt (free text it may add stays out). */
const keptDetails = ['ExtendedDescription', 'AcquirerResponse', 'clearingInstituteName', 'ConnectorTxID1', 'ConnectorTxID2', 'ConnectorTxID3'];

/**
 * Acquirer codes that leave the payment's fate open, so the attempt stays unknown (the reconciler
 * asks again, then an operator): its own "uncertain result", a timeout on the acquirer's side
 * (900.100.400, and 900.100.500 "try later": the platform says 900.100.301 when the timed-out
 * payment was reversed), an undefined connector
 * error, and a payment that "partially failed" whose automatic reversal failed too. Declined, any
 * of them would let a cascade charge the card at the next PSP while the first charge may stand.
 */
const uncertainCodes: ReadonlySet<string> = new Set(['900.100.300', '900.100.400', '900.100.500', '999.999.999', '000.400.030']);
const isUncertain = (code: string | undefined) => code !== undefined && uncertainCodes.has(code);

/** "Transaction with same TransactionId already exists": an entity that keeps merchant transaction ids unique saw this attempt before. */
const duplicateCode = '800.130.100';

/** A payment object as the acquirer answers it (the fields read here; the rest is ignored). */
interface PaymentObject {
  readonly id?: unknown;
  readonly result?: { readonly code?: unknown; readonly description?: unknown };
  readonly resultDetails?: unknown;
  readonly redirect?: unknown;
  readonly standingInstruction?: unknown;
  readonly risk?: unknown;
}

/** The acquirer's own 3-D Secure redirect, as its pending answer gives it (undefined when absent or malformed). */
export function redirectOf(v: unknown): ShopperRedirect | undefined {
  if (!isObject(v)) return undefined;
  const url = shopperPageUrl(v.url);
  if (url === undefined) return undefined;
  const parameters = Array.isArray(v.parameters)
    ? v.parameters.filter(isObject).filter((p) => typeof p.name === 'string' && typeof p.value === 'string').map((p) => ({ name: p.name as string, value: p.value as string }))
    : [];
  return { url, method: v.method === 'GET' ? 'GET' : 'POST', parameters };
}

/**
 * The neutral outcome of an acquirer's answer, by the code classes of the OPP family: success and
 * review approve, pending waits, the rest decline with the reason its code says. Undefined when the
 * answer carries no result code. Pure.
 */
export function outcomeOfPayment(p: PaymentObject): Answer | undefined {
  const code = typeof p.result?.code === 'string' && /^[0-9]{3}\.[0-9]{3}\.[0-9]{3}$/.test(p.result.code) ? p.result.code : undefined;
  if (code === undefined) return undefined;
  const pspReference = typeof p.id === 'string' && p.id.length > 0 && p.id.length <= 64 ? p.id : undefined;
  const details: Record<string, string> = {};
  if (typeof p.resultDetails === 'object' && p.resultDetails !== null) {
    for (const k of keptDetails) {
      const v = (p.resultDetails as Record<string, unknown>)[k];
      if (typeof v === 'string') details[k] = clipText(v, 256);
    }
  }
  // The acquirer's own risk score, which a /v1 answer repeats (a number, as the platform writes it).
  if (isObject(p.risk) && typeof p.risk.score === 'string' && /^-?[0-9]{1,4}$/.test(p.risk.score)) details[riskScoreDetail] = p.risk.score;
  // The id later charges of a card kept on file refer to, as the acquirer answers a standing
  // instruction's successful payment (its scheme's transaction id, where the scheme gave one).
  const firstId = isObject(p.standingInstruction) && typeof p.standingInstruction.initialTransactionId === 'string'
    && /^[A-Za-z0-9._-]{1,64}$/.test(p.standingInstruction.initialTransactionId) ? p.standingInstruction.initialTransactionId : undefined;
  switch (classifyResultCode(code)) {
    case 'success': case 'review': return { kind: 'approved', pspReference, acquirerCode: code, details: firstId ? { ...details, networkTransactionId: firstId } : details };
    case 'pending': {
      const redirect = redirectOf(p.redirect);
      return redirect
        ? { kind: 'pending', action: 'three_ds', pspReference, acquirerCode: code, details, redirect }
        : { kind: 'pending', action: undefined, pspReference, acquirerCode: code, details };
    }
    case 'rejected': {
      const message = typeof p.result?.description === 'string' ? clipText(p.result.description, 256) : undefined;
      return { kind: 'declined', reason: declineReasonOf(code), acquirerCode: code, message, pspReference, details };
    }
  }
}

/**
 * An amount as the acquirer reads it: its currency's decimals where the account says it takes
 * them, else at most two (the platform's pattern, `^[0-9]{1,12}(\.[0-9]{2})?$`): KWD 1.250 goes as
 * 1.25, and KWD 1.255 cannot be sent (thrown before anything is).
 */
export function amountText(m: Money, currencyDecimals: boolean): string {
  if (currencyDecimals || exponentOf(m.currency) <= 2) return formatMajorUnits(m);
  const factor = 10 ** (exponentOf(m.currency) - 2);
  if (m.amount % factor !== 0) throw new Error(`${m.currency} ${formatMajorUnits(m)} cannot be sent: this acquirer takes at most two decimals`);
  const cents = String(m.amount / factor).padStart(3, '0');
  return `${cents.slice(0, -2)}.${cents.slice(-2)}`;
}

/**
 * An amount the acquirer answered: with its currency's decimals, or with two (the platform's echo
 * prints two whatever the currency: a three-decimal currency's amount to the cent, a zero-decimal
 * one's with ".00", which is the same amount; a fraction that currency has not is another amount).
 */
function readAmount(text: string, currency: Currency): Money | undefined {
  const exact = parseMajorUnits(text, currency);
  const exponent = exponentOf(currency);
  if (exact || exponent === 2 || !/^[0-9]{1,15}\.[0-9]{2}$/.test(text)) return exact;
  const [units, cents] = text.split('.');
  const inCents = Number(units) * 100 + Number(cents);
  if (exponent > 2) return { amount: inCents * 10 ** (exponent - 2), currency };
  const factor = 10 ** (2 - exponent);
  return inCents % factor === 0 ? { amount: inCents / factor, currency } : undefined;
}

/**
 * The form an operation is sent as: initial payments carry the amount, the card and the brand;
 * follow-ups only the amount, against the original payment's id (a refund against the capture,
 * sale or rebill whose money it gives back). Our attempt id goes as
 * `merchantTransactionId` so the query API finds the attempt again. Test switches go only to test
 * systems. Holds the card's digits: never logged, dropped once sent.
 */
export function formOf(settings: OppSettings, req: ConnectorRequest): { path: string; body: URLSearchParams } {
  const { type, initial } = paymentTypeOf[req.operation];
  const body = new URLSearchParams({
    entityId: settings.entityId,
    amount: amountText(req.amount, settings.currencyDecimals === true),
    currency: req.amount.currency,
    paymentType: type,
    merchantTransactionId: req.attemptId,
  });
  if (initial) {
    const card = req.card;
    if (!card) throw new Error(`${req.operation} needs card data`);
    body.set('paymentBrand', card.brand);
    // The platform's own field for the merchant's invoice or order number, shown in its portal and reports.
    const refs = req.merchantReferences;
    const invoice = refs?.invoice ?? refs?.order;
    if (invoice !== undefined) body.set('merchantInvoiceId', clipText(invoice, 255));
    body.set('card.number', card.pan.reveal());
    // The platform takes at most 45 characters of a holder's name (both dialects take 128 here).
    if (card.holder !== undefined) body.set('card.holder', clipText(card.holder, 45));
    body.set('card.expiryMonth', card.expiryMonth);
    body.set('card.expiryYear', card.expiryYear.length === 2 ? `20${card.expiryYear}` : card.expiryYear);
    if (card.cvv !== undefined) body.set('card.cvv', card.cvv.reveal());
    // A merchant-initiated charge of a stored card: the acquirer exempts it from 3-D Secure. The
    // first, cardholder-initiated charge that stores the card says so too, a later one the
    // cardholder makes is a CIT of a kept card, and a later one names the scheme's id of the first
    // transaction where it is known.
    const stored = req.storedCredential;
    if (req.merchantInitiated || stored) {
      const subsequent = req.merchantInitiated || stored?.use === 'subsequent';
      const byMerchant = req.merchantInitiated || stored?.initiatedBy === 'merchant';
      body.set('standingInstruction.source', byMerchant ? 'MIT' : 'CIT');
      body.set('standingInstruction.mode', subsequent ? 'REPEATED' : 'INITIAL');
      body.set('standingInstruction.type', stored?.type === 'recurring' ? 'RECURRING' : stored?.type === 'installment' ? 'INSTALLMENT' : 'UNSCHEDULED');
      // The scheme's id of the first transaction, as resolved: an id the merchant was given that is
      // another PSP's own reference (a first payment at Adyen that answered no scheme id) means
      // nothing to this acquirer, which may decline or flag a charge that names it.
      if (subsequent && stored?.schemeTransactionId) body.set('standingInstruction.initialTransactionId', stored.schemeTransactionId);
    }
    // The acquirer may then run 3-D Secure itself and send the shopper back here.
    // A credit is never sent through the acquirer's 3-D Secure: money to the card asks no proof of the shopper.
    if (req.returnUrl !== undefined && !req.authentication && req.operation !== 'credit') body.set('shopperResultUrl', req.returnUrl);
    // Authenticated already (the engine's own challenge): the result goes along as an external
    // MPI's, so the acquirer does not ask the shopper again.
    if (req.authentication?.eci !== undefined) body.set('threeDSecure.eci', req.authentication.eci);
    // The merchant's own server's authentication: its cryptogram and ids, under the platform's names.
    const a = req.authentication;
    if (a?.authenticationValue !== undefined) {
      body.set('threeDSecure.verificationId', a.authenticationValue);
      if (a.xid !== undefined) body.set('threeDSecure.xid', a.xid);
      if (a.dsTransactionId !== undefined) body.set('threeDSecure.dsTransactionId', a.dsTransactionId);
      if (a.version !== undefined) body.set('threeDSecure.version', a.version);
    }
    setShopper(body, req);
  } else if (!req.originalReference || !/^[A-Za-z0-9_-]{1,64}$/.test(req.originalReference)) {
    throw new Error(`${req.operation} needs the acquirer's reference of the original payment`);
  }
  if (!req.live) {
    for (const [k, v] of Object.entries(req.testParameters)) body.set(`customParameters[${k}]`, v);
  }
  // A refund names the transaction whose money it gives back: the platform refunds a DB, CP, RB or
  // RC and refuses one of a PA (700.400.520), which its capture's money is not.
  const refunded = req.operation === 'refund' && req.refundedReference && /^[A-Za-z0-9_-]{1,64}$/.test(req.refundedReference) ? req.refundedReference : undefined;
  const path = initial ? '/v1/payments' : `/v1/payments/${encodeURIComponent(refunded ?? req.originalReference!)}`;
  return { path, body };
}

/**
 * The shopper under the platform's own names (those the merchant's `/v1` request used here too), for
 * the acquirer's 3-D Secure 2 and address checks, and the statement text as its `descriptor` (127
 * characters, as the merchant's).
 */
function setShopper(body: URLSearchParams, req: ConnectorRequest): void {
  const s = req.shopper;
  if (s) {
    for (const name of ['email', 'ip', 'phone', 'givenName', 'surname'] as const) {
      const v = s[name];
      if (v !== undefined) body.set(`customer.${name}`, v);
    }
    for (const [name, v] of Object.entries(s.browser ?? {})) body.set(`customer.browser.${name}`, v);
    for (const group of ['billing', 'shipping'] as const) {
      for (const [name, v] of Object.entries(s[group] ?? {})) body.set(`${group}.${name}`, v);
    }
  }
  if (req.statementText !== undefined) body.set('descriptor', clipText(req.statementText, 127));
}

/**
 * Refuses an acquirer's answer for another amount or currency than was asked (its `amount` and
 * `currency`, where it gives them): money may have moved as nobody asked, so it is not this
 * request's outcome. Thrown, the attempt stays unknown for the reconciler and then an operator. A
 * decline moved nothing, and a reversal answers the amount it released, whatever it is.
 */
function answeredAsAskedOpp(json: unknown, outcome: Answer, asked: Money, operation: ConnectorRequest['operation']): void {
  if (outcome.kind === 'declined' || operation === 'void' || !isObject(json)) return;
  if (json.amount === undefined && json.currency === undefined) return;
  const currency = typeof json.currency === 'string' && isCurrency(json.currency) ? json.currency : undefined;
  const answered = currency && typeof json.amount === 'string' ? readAmount(json.amount, currency) : undefined;
  if (!answered || answered.currency !== asked.currency || answered.amount !== asked.amount) {
    throw new Error(`acquirer answered for ${String(json.currency)} ${String(json.amount)} where ${asked.currency} ${formatMajorUnits(asked)} was asked: not taken as this request's outcome`);
  }
}

/** An acquirer answer as read off the wire: its HTTP status and JSON body (undefined when not JSON). */
function send(settings: OppSettings, timeoutMs: number, path: string, init: { method: 'GET' | 'POST'; body?: URLSearchParams }) {
  const headers: Record<string, string> = { authorization: `Bearer ${settings.accessToken}`, accept: 'application/json' };
  if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
  return pspFetch(settings.baseUrl + path, { method: init.method, headers, timeoutMs, ...(init.body ? { body: init.body.toString() } : {}) });
}

/**
 * The payment a shopper's return from the acquirer names (`id`, or `resourcePath=/v1/payments/{id}`),
 * checked against the reference the attempt's pending answer gave. One that names none (a prefetch,
 * a request made from the payment's id alone), or another than the attempt's, is none of the
 * acquirer's, and the acquirer is not asked: each such request would spend one of its two status
 * calls a minute per payment.
 */
function namedPayment(back: ShopperReturn): string {
  const named = back.parameters.id ?? /^\/v1\/payments\/([A-Za-z0-9_-]{1,64})$/.exec(back.parameters.resourcePath ?? '')?.[1];
  if (!named || !/^[A-Za-z0-9_-]{1,64}$/.test(named)) throw new ReturnNotOurs('the acquirer\'s return names no payment');
  if (back.pspReference !== undefined && named !== back.pspReference) throw new ReturnNotOurs('the acquirer\'s return names another payment');
  return named;
}

/**
 * A connector to an acquirer of the Open Payment Platform family over its `/v1` server-to-server
 * API. A lost answer (timeout, broken connection, a server error without a result code, or the
 * acquirer's own "uncertain result") is thrown, so the engine records the attempt unknown and
 * the reconciler later asks `lookup`, which finds the attempt by its `merchantTransactionId`.
 */
export function createOppConnector(settings: OppSettings, timeoutMs: number): Connector {
  return {
    name: 'opp',
    runsThreeDs: true,
    // The platform's long pending ("may change after several days": a non-instant refund or debit
    // waiting for its bank) is accepted and carried out later; its half-hour pending times out.
    pendingFollowUpsLast: (code) => code !== undefined && longPending.test(code),
    operations,
    async execute(req) {
      let form: ReturnType<typeof formOf>;
      try { form = formOf(settings, req); } catch (err) {
        // Refused before anything was sent: a decline, not an unknown the reconciler would chase.
        return { kind: 'declined', reason: 'not_supported', acquirerCode: undefined, message: (err as Error).message, pspReference: undefined, details: {} };
      }
      const { path, body } = form;
      const { status, json } = await send(settings, timeoutMs, path, { method: 'POST', body });
      const outcome = isObject(json) ? outcomeOfPayment(json) : undefined;
      if (!outcome) throw new Error(`acquirer answered HTTP ${status} without a result code`);
      if (isUncertain(outcome.acquirerCode)) throw new Error(`acquirer answered ${outcome.acquirerCode} (uncertain result)`);
      referencedApproval('the acquirer', req.operation, outcome);
      answeredAsAskedOpp(json, outcome, req.amount, req.operation);
      // A retried attempt: the acquirer's answer to the first send is the attempt's outcome (charged once).
      if (outcome.acquirerCode === duplicateCode && paymentTypeOf[req.operation].initial) {
        const first = await this.lookup(req.attemptId, { operation: req.operation, amount: req.amount, originalReference: req.originalReference, pspReference: undefined });
        if (first) { referencedApproval('the acquirer', req.operation, first); return first; }
      }
      return outcome;
    },
    async lookup(attemptId, hint) {
      const query = new URLSearchParams({ entityId: settings.entityId, merchantTransactionId: attemptId });
      const { status, json } = await send(settings, timeoutMs, `/v1/query?${query}`, { method: 'GET' });
      if (!isObject(json) || !isObject(json.result)) throw new Error(`acquirer query answered HTTP ${status} without a result`);
      if (json.result.code === '700.400.580') return undefined;
      if (!Array.isArray(json.payments)) throw new Error(`acquirer query answered ${String(json.result.code)} without payments`);
      const read = json.payments.filter(isObject).map((p) => ({ p, o: outcomeOfPayment(p) })).filter((x): x is { p: Record<string, unknown>; o: Answer } => x.o !== undefined);
      const listed = read.map((x) => x.o);
      // The acquirer's own "uncertain result" is no outcome: asked again on the reconciler's next pass.
      const found = listed.filter((o) => !isUncertain(o.acquirerCode));
      if (hint) for (const { p, o } of read) if (!isUncertain(o.acquirerCode)) answeredAsAskedOpp(p, o, hint.amount, hint.operation);
      if (found.length === 0 && listed.length > 0) throw new Error(`acquirer query answered ${listed.at(-1)!.acquirerCode} (it does not know the outcome yet)`);
      // One attempt id is sent once; should the acquirer list several, an approval wins over a decline.
      const chosen = found.find((o) => o.kind === 'approved') ?? found.find((o) => o.kind === 'pending') ?? found.at(-1);
      if (chosen && hint) referencedApproval('the acquirer', hint.operation, chosen);
      return chosen;
    },
    returnNames: (back) => { try { namedPayment(back); return true; } catch { return false; } },
    async complete(back) {
      const id = namedPayment(back);
      const query = new URLSearchParams({ entityId: settings.entityId });
      const { status, json } = await send(settings, timeoutMs, `/v1/payments/${encodeURIComponent(id)}?${query}`, { method: 'GET' });
      const outcome = isObject(json) ? outcomeOfPayment(json) : undefined;
      if (!outcome) throw new Error(`acquirer status answered HTTP ${status} without a result code`);
      // A refused status call (throttled: two a minute per payment; a bad token or entity)
      // answers no payment: its code is the call's, not the payment's. Thrown, the attempt is asked
      // about again later; read as the payment's decline, a cascade would charge the card again.
      if (status === 429 || !isObject(json) || typeof json.id !== 'string' || /^(800\.120\.|800\.900\.)/.test(outcome.acquirerCode ?? '')) {
        throw new Error(`acquirer status call answered HTTP ${status} ${String(outcome.acquirerCode)}: not the payment's outcome`);
      }
      if (isUncertain(outcome.acquirerCode)) throw new Error(`acquirer answered ${outcome.acquirerCode} (uncertain result)`);
      // An id the shopper's browser brought must name this attempt's payment (sent as its merchantTransactionId).
      if (back.pspReference === undefined && isObject(json) && json.merchantTransactionId !== back.attemptId) throw new ReturnNotOurs('the acquirer\'s return names another payment');
      answeredAsAskedOpp(json, outcome, back.amount, 'authorize');
      referencedApproval('the acquirer', 'authorize', outcome);
      return outcome;
    },
  };
}

/** The registry's entry: each account's connector from its own settings. */
export const oppFactory: ConnectorFactory = httpConnectorFactory({ name: 'opp', operations, secretSettings, identitySettings: ['baseUrl', 'entityId'], parseSettings, connect: (settings, timeoutMs) => createOppConnector(settings, timeoutMs) });
