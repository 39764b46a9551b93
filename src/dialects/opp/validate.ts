import { isCurrency, parseMajorUnits, exponentOf, type Money } from '../../money/money.ts';
import { backOfficeTypes, isBackOfficeType, isInitialType, type BackOfficeType, type InitialType } from './payment-types.ts';
import type { AuthenticationRequest } from '../../threeds/model.ts';
import type { BankTransferInput } from '../../payments/service.ts';
import { isKnownResultCode } from '../../processors/result-codes.ts';
import { Cvv, isCardBrand, Pan, type CardBrand, type CardInput } from '../../vault/card.ts';
import { customParameters, nest, type FormParams } from './form.ts';
import type { ParameterError } from './envelope.ts';
import type { RegistrationChange } from '../../vault/registrations.ts';
import type { CardDataScreen } from '../../vault/free-text.ts';
import { scrubPans } from '../../runtime/scrub.ts';

/** A refused request: the result code to answer with and the fields at fault. */
export interface Refusal {
  readonly code: string;
  readonly parameterErrors: ParameterError[];
}

type Check = { name: string; message: string; code: string; value?: string | null };

const cardFields = new Set(['card.number', 'card.cvv']);
const control = /\p{Cc}/u;
const multilineControl = /(?![\t\n\r])\p{Cc}/u;

class Collector {
  readonly errors: Check[] = [];
  readonly params: FormParams;
  constructor(params: FormParams) { this.params = params; }
  add(name: string, message: string, code = '200.300.404') {
    const raw = this.params[name];
    // Card data never goes back out, not even in an error body.
    const value = raw === undefined ? null : cardFields.has(name) ? '[REDACTED]' : scrubPans(String(raw)).slice(0, 256);
    this.errors.push({ name, message, code, value });
  }
  /** Optional field: checked when present. */
  match(name: string, re: RegExp, code = '200.300.404', message = `must match ${re.source}`) {
    const v = this.params[name];
    if (v !== undefined && !re.test(v)) this.add(name, message, code);
  }
  required(name: string, re: RegExp, missingCode = '200.300.404', code = '200.300.404') {
    if (this.params[name] === undefined) this.add(name, 'may not be empty', missingCode);
    else this.match(name, re, code);
  }
  maxLength(name: string, max: number, code = '200.300.404') {
    const v = this.params[name];
    if (v !== undefined && [...v].length > max) this.add(name, `size must be between 1 and ${max}`, code);
  }
  /**
   * A contact or address field (docs/compatibility.md, "Contact and address fields"): any text up
   * to `max` characters without control characters; line breaks and tabs only where `multiline`.
   */
  contact(name: string, max: number, code: string, multiline = false) {
    const v = this.params[name];
    if (v === undefined) return;
    if ([...v].length > max) this.add(name, `size must be between 1 and ${max}`, code);
    else if ((multiline ? multilineControl : control).test(v)) this.add(name, 'must not contain control characters', code);
  }
  refusal(): Refusal | undefined {
    if (this.errors.length === 0) return undefined;
    // One error with its own code answers with that code; several answer with the generic one.
    const specific = this.errors.length === 1 ? this.errors[0]!.code : '200.300.404';
    return {
      code: specific,
      parameterErrors: this.errors.map(({ name, value, message }) => ({ name, value: value ?? null, message })),
    };
  }
}

/**
 * Card numbers outside the card fields (the per-field decision; docs/compatibility.md). Human text
 * — names, addresses, the descriptor, the bank's and the holder's names, cart item names — is
 * refused: a card number there is a mistake and nothing legitimate looks like one. Everything
 * else — references, custom parameters, phone numbers, ids the merchant makes up, return URLs —
 * is masked, because a numeric reference may pass the Luhn check by chance and must keep working.
 */
const refusedWithCardNumber = /^(card\.holder|customer\.(givenName|surname|middleName|companyName|email)|(billing|shipping)\..+|descriptor|bankAccount\.(holder|bankName)|cart\.items\[[0-9]+\]\.(name|description))$/;
/** The card fields themselves, ids with their own strict format, and the legacy credentials (checked, never stored). */
const notScreened = new Set(['card.number', 'card.cvv', 'entityId', 'authentication.entityId', 'authentication.userId', 'authentication.password']);
const refusalCodes: Readonly<Record<string, string>> = {
  'card.holder': '100.100.402', 'bankAccount.holder': '100.100.402', 'customer.email': '100.900.101', 'customer.phone': '100.900.200', 'customer.mobile': '100.900.300',
};
/**
 * A phone number in international form (`+` and at most 15 digits, E.164) may pass the Luhn check
 * and is kept as sent; any other card-number-looking phone value is refused (a mask would not be
 * a phone number).
 */
const phoneFields = /^customer\.(phone|mobile)$/;
const internationalPhone = (v: string) => /^\+/.test(v) && v.replace(/[^0-9]/g, '').length <= 15;

/** The request's parameters with card numbers masked where they are tolerated, or the refusal naming the fields where they are not. */
export function screenCardData(params: FormParams, screen: CardDataScreen): { ok: true; value: FormParams } | { ok: false; refusal: Refusal } {
  const out: Record<string, string> = Object.create(null);
  const c = new Collector(params);
  for (const [name, value] of Object.entries(params)) {
    if (notScreened.has(name)) { out[name] = value; continue; }
    if (phoneFields.test(name) && internationalPhone(value)) { out[name] = value; continue; }
    if ((refusedWithCardNumber.test(name) || phoneFields.test(name)) && screen.holdsPan(value)) {
      c.errors.push({ name, value: '[REDACTED]', message: 'must not contain a card number (send card data only in the card fields)', code: refusalCodes[name] ?? '200.300.404' });
      continue;
    }
    out[screen.mask(name)] = screen.mask(value);
  }
  const refusal = c.refusal();
  return refusal ? { ok: false, refusal } : { ok: true, value: out };
}

export const amountPattern = /^[0-9]{1,12}(\.[0-9]{2})?$/;
const amountPatternFor = (e: number) => (e === 2 ? amountPattern : e === 0 ? /^[0-9]{1,12}$/ : new RegExp(`^[0-9]{1,12}(\\.[0-9]{${e}})?$`));

/** Reads `amount` + `currency` against the currency's exponent (decision 4). */
function readMoney(c: Collector, required: boolean): Money | undefined {
  const { amount, currency } = c.params;
  if (currency === undefined) { if (required) c.add('currency', 'may not be empty'); }
  else if (!/^[A-Z]{3}$/.test(currency)) c.add('currency', 'must match ^[A-Z]{3}$');
  else if (!isCurrency(currency)) c.add('currency', 'must be an ISO 4217 currency code', '100.550.401');
  if (amount === undefined) { if (required) c.add('amount', 'may not be empty'); return undefined; }
  const pattern = currency !== undefined && isCurrency(currency) ? amountPatternFor(exponentOf(currency)) : amountPattern;
  if (!pattern.test(amount)) { c.add('amount', `must match ${pattern.source}`); return undefined; }
  if (currency === undefined || !isCurrency(currency)) return undefined;
  const m = parseMajorUnits(amount, currency);
  if (!m) { c.add('amount', `must match ${pattern.source}`); return undefined; }
  if (m.amount === 0) { c.add('amount', 'must be greater than 0', '100.550.300'); return undefined; }
  return m;
}

export const testModes = ['INTERNAL', 'EXTERNAL'] as const;
export type TestMode = (typeof testModes)[number];

/** Everything echoed back about a transaction: the documented parameter groups of reference §3. */
function readEcho(c: Collector): Record<string, unknown> {
  const p = c.params;
  // The email keeps its format check: the platform documents the refusal and 3-D Secure passes it on.
  c.match('customer.email', /^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u, '100.900.101', 'must be a valid email address');
  c.maxLength('customer.email', 50, '100.900.105');
  // Contact and address fields: never refused over their format, only over length or control
  // characters (phones as people write them: `+1 (555) 123-4567 ext. 89`, `0049.30.1234`, `-`).
  c.contact('customer.givenName', 50, '100.700.201');
  c.contact('customer.middleName', 50, '200.300.404');
  c.contact('customer.surname', 50, '100.700.101');
  c.contact('customer.companyName', 60, '100.700.500');
  c.contact('customer.phone', 50, '100.900.200');
  c.contact('customer.mobile', 50, '100.900.300');
  c.match('customer.ip', /^(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$|^[0-9a-fA-F:]{2,39}$/, '100.900.401', 'must be an IPv4 or IPv6 address');
  c.match('customer.birthDate', /^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/, '100.900.450');
  c.match('customer.sex', /^[FM]$/);
  for (const group of ['billing', 'shipping']) {
    c.match(`${group}.country`, /^[A-Z]{2}$/, '100.800.501');
    c.contact(`${group}.postcode`, 16, '100.800.201');
    c.contact(`${group}.city`, 80, '100.800.301');
    c.contact(`${group}.state`, 50, '100.800.401');
    // The streets' bound is their combined length, checked below.
    c.contact(`${group}.street1`, Infinity, '100.800.101', true);
    c.contact(`${group}.street2`, Infinity, '100.800.101', true);
    c.contact(`${group}.givenName`, 50, '200.300.404');
    c.contact(`${group}.surname`, 50, '200.300.404');
    const streets = (p[`${group}.street1`] ?? '') + (p[`${group}.street2`] ?? '');
    if ([...streets].length > 201) c.add(`${group}.street1`, 'street1 and street2 together must not exceed 201 characters', '100.800.101');
  }
  for (const name of Object.keys(p)) {
    const item = /^cart\.items\[([0-9]+)\]\.(price|tax|discount|quantity)$/.exec(name);
    if (item) {
      if (Number(item[1]) > 99) c.add(name, 'cart may hold at most 100 items');
      else if (item[2] === 'quantity') c.match(name, /^[0-9]{1,6}$/);
      else c.match(name, amountPattern);
    }
    const cp = /^customParameters\[(.*)\]$/.exec(name);
    if (cp && !/^[a-zA-Z0-9._]{3,64}$/.test(cp[1]!)) c.add(name, 'custom parameter names must match ^[a-zA-Z0-9._]{3,64}$');
  }
  c.maxLength('merchantInvoiceId', 255);
  c.maxLength('descriptor', 127);
  c.match('recurringType', /^(INITIAL|REPEATED)$/);
  c.match('standingInstruction.mode', /^(INITIAL|REPEATED)$/);
  c.match('standingInstruction.type', /^(UNSCHEDULED|RECURRING|INSTALLMENT)$/);
  c.match('standingInstruction.source', /^(CIT|MIT)$/);
  c.match('threeDSecure.eci', /^[0-9]{2}$/);
  const echo: Record<string, unknown> = {};
  for (const group of ['customer', 'billing', 'shipping', 'cart', 'merchant', 'standingInstruction', 'threeDSecure']) {
    const v = nest(p, group);
    if (v) echo[group] = v;
  }
  const cps = customParameters(p);
  if (cps) echo.customParameters = cps;
  for (const name of ['merchantInvoiceId', 'descriptor', 'recurringType', 'transactionCategory']) {
    if (p[name] !== undefined) echo[name] = p[name];
  }
  return echo;
}

function readTestParameters(c: Collector): Record<string, string> {
  const cps = customParameters(c.params) ?? {};
  const forced = cps['forceResultCode'];
  if (forced !== undefined && !isKnownResultCode(forced)) c.add('customParameters[forceResultCode]', 'must be a result code listed by GET /v1/resultcodes');
  return cps;
}

function readCommon(c: Collector) {
  c.maxLength('merchantTransactionId', 255);
  c.match('testMode', /^(INTERNAL|EXTERNAL)$/, '100.300.101');
  return {
    merchantTransactionId: c.params.merchantTransactionId,
    testMode: c.params.testMode as TestMode | undefined,
    echo: readEcho(c),
    testParameters: readTestParameters(c),
  };
}

/**
 * Online bank transfers: the shopper is sent to their bank and the merchant (or the bank, after
 * a while) posts the receipt. Sofort is the platform's documented example of this flow.
 */
export const bankTransferBrands = ['SOFORTUEBERWEISUNG'] as const;
const isBankTransferBrand = (s: string) => (bankTransferBrands as readonly string[]).includes(s);

/** The 3-D Secure test switches of reference §7.5. */
function readAuthentication(c: Collector): AuthenticationRequest {
  const p = c.params;
  c.match('customParameters[3DS2_enrolled]', /^(true|false)$/, '200.300.404', 'must be true or false');
  c.match('customParameters[3DS2_flow]', /^(challenge|frictionless)$/, '200.300.404', 'must be challenge or frictionless');
  c.match('threeDSecure.challengeIndicator', /^0[1-4]$/, '200.300.404', 'must be one of 01, 02, 03, 04');
  const enrolled = p['customParameters[3DS2_enrolled]'];
  const flow = p['customParameters[3DS2_flow]'];
  return {
    enrolled: enrolled === 'true' ? true : enrolled === 'false' ? false : undefined,
    flow: flow === 'challenge' || flow === 'frictionless' ? flow : undefined,
    challengeIndicator: p['threeDSecure.challengeIndicator'],
  };
}

/** The card fields' own checks (reference §3.2 codes); `card.number` and the expiry are required. */
function checkCardFields(c: Collector) {
  const p = c.params;
  c.required('card.number', /^[0-9]{12,19}$/, '100.100.100', '100.100.101');
  c.required('card.expiryMonth', /^(0[1-9]|1[0-2])$/, '100.100.200', '100.100.201');
  c.required('card.expiryYear', /^(19|20)([0-9]{2})$/, '100.100.300', '100.100.301');
  c.match('card.cvv', /^[0-9]{3,4}$/, '100.100.601');
  const holder = p['card.holder'];
  if (holder !== undefined) {
    const len = [...holder].length;
    if (len < 2 || len > 128) c.add('card.holder', 'size must be between 2 and 128', '100.100.401');
    else if (/[\p{Cc}<>]/u.test(holder)) c.add('card.holder', 'must not contain control characters or angle brackets', '100.100.402');
  }
}

/** The card of a request whose fields passed `checkCardFields`, in its masking types. */
function cardOf(p: FormParams, brand: CardBrand): CardInput {
  return {
    pan: new Pan(p['card.number']!),
    cvv: p['card.cvv'] !== undefined ? new Cvv(p['card.cvv']) : undefined,
    holder: p['card.holder'],
    expiryMonth: p['card.expiryMonth']!,
    expiryYear: p['card.expiryYear']!,
    brand,
  };
}

function readShopperResultUrl(c: Collector): string | undefined {
  const url = c.params.shopperResultUrl;
  if (url !== undefined) {
    let okUrl = url.length <= 2048;
    try { okUrl &&= ['http:', 'https:'].includes(new URL(url).protocol); } catch { okUrl = false; }
    if (!okUrl) c.add('shopperResultUrl', 'must be an absolute http(s) URL', '100.370.102');
  }
  return url;
}

const createRegistrationPattern = /^(true|false)$/;

export interface InitialRequest {
  readonly type: InitialType;
  readonly amount: Money;
  /** Exactly one of `card` and `bankTransfer`. */
  readonly card: CardInput | undefined;
  readonly bankTransfer: BankTransferInput | undefined;
  readonly authentication: AuthenticationRequest;
  /** `createRegistration=true`: keep the card as a registration (token) for later payments. */
  readonly createRegistration: boolean;
  readonly merchantTransactionId: string | undefined;
  readonly testMode: TestMode | undefined;
  readonly shopperResultUrl: string | undefined;
  readonly echo: Record<string, unknown>;
  readonly testParameters: Record<string, string>;
}

/** Validates `POST /v1/payments`. */
export function readInitial(params: FormParams): { ok: true; value: InitialRequest } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const p = params;
  if (p.paymentType === undefined) c.add('paymentType', 'may not be empty');
  else if (!isInitialType(p.paymentType)) c.add('paymentType', 'must be one of [PA, DB, CD, PA.CP]');
  const amount = readMoney(c, true);
  const hasCard = Object.keys(p).some((k) => k.startsWith('card.'));
  const bank = p.paymentBrand !== undefined && isBankTransferBrand(p.paymentBrand);
  if (p.paymentBrand === undefined) c.add('paymentBrand', hasCard ? 'may not be empty' : 'card properties must be set', hasCard ? '100.100.500' : '200.300.404');
  else if (bank) {
    if (hasCard) c.add('paymentBrand', 'card properties are not allowed for a bank transfer');
    if (p.paymentType === 'CD') c.add('paymentType', 'a credit (CD) goes to a card, not to a bank transfer');
    c.required('bankAccount.country', /^[A-Z]{2}$/, '200.300.404', '100.800.501');
    c.maxLength('bankAccount.bankName', 60);
    c.maxLength('bankAccount.holder', 128);
  } else if (!isCardBrand(p.paymentBrand)) c.add('paymentBrand', 'must be a supported card or bank-transfer brand', '100.100.501');
  else if (!hasCard) c.add('paymentBrand', 'card properties must be set');
  if (hasCard) checkCardFields(c);
  const url = readShopperResultUrl(c);
  c.match('createRegistration', createRegistrationPattern, '200.300.404', 'must be true or false');
  if (bank && p.createRegistration === 'true') c.add('createRegistration', 'only cards can be registered');
  const createRegistration = p.createRegistration === 'true';
  const common = readCommon(c);
  const authentication = readAuthentication(c);
  const refusal = c.refusal();
  if (refusal || !amount || !(hasCard || bank)) return { ok: false, refusal: refusal ?? { code: '200.300.404', parameterErrors: [] } };
  if (bank) {
    // Only what identifies the bank is echoed; account numbers are not repeated back.
    const bankAccount = Object.fromEntries((['country', 'bankName', 'holder'] as const)
      .filter((k) => p[`bankAccount.${k}`] !== undefined).map((k) => [k, p[`bankAccount.${k}`]]));
    return {
      ok: true,
      value: {
        type: p.paymentType as InitialType, amount, card: undefined, authentication, createRegistration,
        bankTransfer: { bankName: p['bankAccount.bankName'] },
        shopperResultUrl: url, ...common, echo: { ...common.echo, paymentBrand: p.paymentBrand, bankAccount },
      },
    };
  }
  const brand = p.paymentBrand!;
  if (!isCardBrand(brand)) return { ok: false, refusal: { code: '100.100.501', parameterErrors: [] } };
  return {
    ok: true,
    value: {
      type: p.paymentType as InitialType,
      amount,
      card: cardOf(p, brand),
      createRegistration,
      bankTransfer: undefined,
      authentication,
      shopperResultUrl: url,
      ...common,
    },
  };
}

/** Most transactions one `/v1/query` page holds, and the page size when none is asked for. */
export const queryPageLimit = 100;

/** Validates the paging of `GET /v1/query?merchantTransactionId=`: `limit` (1–100) and `pageNo` (from 1). */
export function readQueryPage(params: FormParams): { ok: true; value: { limit: number; pageNo: number } } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const limit = params.limit ?? String(queryPageLimit);
  const pageNo = params.pageNo ?? '1';
  if (!/^[0-9]{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > queryPageLimit) c.add('limit', `must be between 1 and ${queryPageLimit}`);
  if (!/^[0-9]{1,9}$/.test(pageNo) || Number(pageNo) < 1) c.add('pageNo', 'must be a page number from 1');
  const refusal = c.refusal();
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: { limit: Number(limit), pageNo: Number(pageNo) } };
}

export interface BackOfficeRequestParams {
  readonly type: BackOfficeType;
  readonly amount: Money | undefined;
  readonly merchantTransactionId: string | undefined;
  readonly echo: Record<string, unknown>;
  readonly testParameters: Record<string, string>;
}

/** Validates `POST /v1/payments/{id}`: a reversal needs no amount, everything else does. */
export function readBackOffice(params: FormParams): { ok: true; value: BackOfficeRequestParams } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const t = params.paymentType;
  if (t === undefined) c.add('paymentType', 'may not be empty');
  else if (!isBackOfficeType(t)) c.add('paymentType', `must be one of [${backOfficeTypes.join(', ')}]`);
  const amount = readMoney(c, t !== 'RV');
  const common = readCommon(c);
  const refusal = c.refusal();
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: { type: t as BackOfficeType, amount, ...common } };
}

/** Validates `POST /v1/registrations`: a card to keep, no payment. */
export function readRegistration(params: FormParams): { ok: true; value: { card: CardInput; echo: Record<string, unknown> } } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const p = params;
  if (p.paymentBrand === undefined) c.add('paymentBrand', 'may not be empty', '100.100.500');
  else if (!isCardBrand(p.paymentBrand)) c.add('paymentBrand', 'must be a supported card brand', '100.100.501');
  checkCardFields(c);
  const { echo } = readCommon(c);
  const refusal = c.refusal();
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: { card: cardOf(p, p.paymentBrand as CardBrand), echo } };
}

export interface RegistrationPaymentRequest extends Omit<InitialRequest, 'card' | 'bankTransfer' | 'createRegistration'> {
  /** A CVV the shopper typed again for this payment (customer-initiated); usually absent. */
  readonly cvv: Cvv | undefined;
  /** Merchant-initiated (`standingInstruction.source=MIT`): the shopper is not there to authenticate. */
  readonly merchantInitiated: boolean;
  /** New card details for the registration (its renewed expiry, another of its brands); empty when none were sent. */
  readonly change: RegistrationChange;
}

/** Validates `POST /v1/registrations/{id}/payments`: an initial payment whose card is the registration's. */
export function readRegistrationPayment(params: FormParams): { ok: true; value: RegistrationPaymentRequest } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const p = params;
  if (p.paymentType === undefined) c.add('paymentType', 'may not be empty');
  else if (!isInitialType(p.paymentType)) c.add('paymentType', 'must be one of [PA, DB, CD, PA.CP]');
  const amount = readMoney(c, true);
  // The registration holds the card; a payment may bring its renewed expiry or another of its brands.
  const renewable = new Set(['card.cvv', 'card.expiryMonth', 'card.expiryYear']);
  for (const name of Object.keys(p)) {
    if (name.startsWith('card.') && !renewable.has(name)) c.add(name, 'the registration holds the card; only card.cvv, card.expiryMonth and card.expiryYear may be sent');
  }
  c.match('card.cvv', /^[0-9]{3,4}$/, '100.100.601');
  if ((p['card.expiryMonth'] === undefined) !== (p['card.expiryYear'] === undefined)) {
    c.add(p['card.expiryMonth'] === undefined ? 'card.expiryMonth' : 'card.expiryYear', 'card.expiryMonth and card.expiryYear come together');
  }
  c.match('card.expiryMonth', /^(0[1-9]|1[0-2])$/, '100.100.201');
  c.match('card.expiryYear', /^(19|20)([0-9]{2})$/, '100.100.301');
  if (p.paymentBrand !== undefined && !isCardBrand(p.paymentBrand)) c.add('paymentBrand', 'must be a supported card brand', '100.100.501');
  const url = readShopperResultUrl(c);
  const common = readCommon(c);
  const authentication = readAuthentication(c);
  const refusal = c.refusal();
  if (refusal || !amount) return { ok: false, refusal: refusal ?? { code: '200.300.404', parameterErrors: [] } };
  return {
    ok: true,
    value: {
      type: p.paymentType as InitialType, amount, authentication, shopperResultUrl: url,
      cvv: p['card.cvv'] !== undefined ? new Cvv(p['card.cvv']) : undefined,
      merchantInitiated: p['standingInstruction.source'] === 'MIT',
      change: {
        ...(p['card.expiryMonth'] !== undefined ? { expiryMonth: p['card.expiryMonth'], expiryYear: p['card.expiryYear'] } : {}),
        ...(p.paymentBrand !== undefined ? { brand: p.paymentBrand as CardBrand } : {}),
      },
      ...common,
    },
  };
}

/** What COPYandPAY's widget may ask for: the card payment types (a credit needs no shopper). */
export const checkoutTypes = ['PA', 'DB', 'PA.CP'] as const;

export interface CheckoutRequest {
  /** The parameters replayed when the shopper pays: everything but who called and the registrations offered. */
  readonly params: Readonly<Record<string, string>>;
  readonly registrationIds: readonly string[];
}

/**
 * Validates `POST /v1/checkouts`: the initial payment's own checks without the card, which the
 * shopper types into the widget later; `registrations[n].id` offers stored cards for one-click.
 */
export function readCheckout(params: FormParams): { ok: true; value: CheckoutRequest } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const p = params;
  if (p.paymentType === undefined) c.add('paymentType', 'may not be empty');
  else if (!(checkoutTypes as readonly string[]).includes(p.paymentType)) c.add('paymentType', `must be one of [${checkoutTypes.join(', ')}]`);
  readMoney(c, true);
  for (const name of Object.keys(p)) {
    if (name.startsWith('card.') || name.startsWith('bankAccount.')) c.add(name, 'the shopper enters the payment details in the widget');
  }
  if (p.paymentBrand !== undefined) c.add('paymentBrand', 'the widget offers the brands of its form\'s data-brands');
  readShopperResultUrl(c);
  c.match('createRegistration', createRegistrationPattern, '200.300.404', 'must be true or false');
  readCommon(c);
  readAuthentication(c);
  const registrationIds: string[] = [];
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(p)) {
    const reg = /^registrations\[([0-9]{1,2})\]\.id$/.exec(name);
    if (reg) {
      if (!/^[0-9a-f]{32}$/.test(value)) c.add(name, 'must match ^[0-9a-f]{32}$');
      else if (!registrationIds.includes(value)) registrationIds.push(value);
    } else if (!/^(authentication\.|entityId$)/.test(name)) kept[name] = value;
  }
  const refusal = c.refusal();
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: { params: kept, registrationIds } };
}
