import { isIP } from 'node:net';
import { isCurrency, parseMajorUnits, exponentOf, formatMajorUnits, type Currency, type Money } from '../../money/money.ts';
import type { BackOfficeType, InitialType } from './payment-types.ts';
import { externalEcis, externalEcisOf, type AuthenticationRequest, type ExternalAuthentication } from '../../threeds/model.ts';
import type { BankTransferInput } from '../../payments/service.ts';
import { isKnownResultCode } from '../../processors/result-codes.ts';
import { Cvv, detectBrand, isCardBrand, Pan, type CardBrand, type CardInput } from '../../vault/card.ts';
import { customParameters, nest, type FormParams } from './form.ts';
import type { ParameterError } from './envelope.ts';
import type { RegistrationChange } from '../../vault/registrations.ts';
import { holdsSecurityCode, securityCodeMask, type CardDataScreen } from '../../vault/free-text.ts';
import { scrubPans } from '../../runtime/scrub.ts';
import { readInstant } from '../../runtime/instant.ts';
import { compile, type JsonSchema } from '../../runtime/json-schema.ts';
import { amountPattern as amountSource, oppFields, type OppField } from './fields.ts';
import { clipText } from '../../runtime/utf8.ts';

/**
 * Whether the merchant charges a stored card with nobody there: `standingInstruction.source=MIT`,
 * or, from integrations older than standing instructions, `recurringType=REPEATED` without a source.
 */
const merchantInitiatedBy = (p: FormParams): boolean =>
  p['standingInstruction.source'] === 'MIT' || (p['standingInstruction.source'] === undefined && p.recurringType === 'REPEATED');

/** A refused request: the result code to answer with and the fields at fault. */
export interface Refusal {
  readonly code: string;
  readonly parameterErrors: ParameterError[];
}

type Check = { name: string; message: string; code: string; value?: string | null };

const cardFields = new Set(['card.number', 'card.cvv']);

class Collector {
  readonly errors: Check[] = [];
  readonly params: FormParams;
  constructor(params: FormParams) { this.params = params; }
  add(name: string, message: string, code = '200.300.404') {
    const raw = this.params[name];
    // Card data never goes back out, not even in an error body.
    const value = raw === undefined ? null : cardFields.has(name) ? '[REDACTED]' : clipText(scrubPans(String(raw)), 256);
    this.errors.push({ name, message, code, value });
  }
  /**
   * Checks a field against its schema in `oppFields`: `may not be empty` when required and absent;
   * else the schema's length and format, answered with the codes and words the schema names.
   */
  check(name: OppField, opts: { required?: boolean; as?: string } = {}) {
    const field = opts.as ?? name;
    const spec: JsonSchema = oppFields[name];
    const v = this.params[field];
    if (v === undefined) {
      if (opts.required) this.add(field, 'may not be empty', (spec['x-missing-code'] as string | undefined) ?? '200.300.404');
      return;
    }
    const validate = compile(spec);
    if (validate(v)) return;
    const keywords = new Set(validate.errors!.map((e) => e.keyword));
    const length = keywords.has('maxLength') || keywords.has('minLength');
    const format = keywords.has('pattern') || keywords.has('enum');
    const invalidCode = (spec['x-invalid-code'] as string | undefined) ?? '200.300.404';
    const formatMessage = (spec['x-message'] as string | undefined) ?? `must match ${spec.pattern as string}`;
    const lengthMessage = (spec['x-length-message'] as string | undefined) ?? `size must be between 1 and ${spec.maxLength as number}`;
    const lengthCode = (spec['x-length-code'] as string | undefined) ?? invalidCode;
    // Most fields name one fault, their length first; a few (the email) name each.
    if (spec['x-checks'] === 'each') {
      if (format) this.add(field, formatMessage, invalidCode);
      if (length) this.add(field, lengthMessage, lengthCode);
    } else if (length) this.add(field, lengthMessage, lengthCode);
    else this.add(field, formatMessage, invalidCode);
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
    if (holdsSecurityCode(name, value)) { out[screen.mask(name)] = securityCodeMask; continue; }
    if ((refusedWithCardNumber.test(name) || phoneFields.test(name)) && screen.holdsPan(value)) {
      c.errors.push({ name, value: '[REDACTED]', message: 'must not contain a card number (send card data only in the card fields)', code: refusalCodes[name] ?? '200.300.404' });
      continue;
    }
    out[screen.mask(name)] = screen.mask(value);
  }
  const refusal = c.refusal();
  return refusal ? { ok: false, refusal } : { ok: true, value: out };
}

export const amountPattern = new RegExp(amountSource);
const amountPatternFor = (e: number) => (e === 2 ? amountPattern : e === 0 ? /^[0-9]{1,12}$/ : new RegExp(`^[0-9]{1,12}(\\.[0-9]{${e}})?$`));
/** An amount's pattern in the request's currency's decimals; two decimals while the currency is unknown. */
const amountPatternIn = (currency: string | undefined) => (currency !== undefined && isCurrency(currency) ? amountPatternFor(exponentOf(currency)) : amountPattern);

/** Reads `amount` + `currency` against the currency's exponent (decision 4). */
function readMoney(c: Collector, required: boolean): Money | undefined {
  const { amount, currency } = c.params;
  const before = c.errors.length;
  // An amount is read only with its currency: where both are optional (a reversal), one without the other is refused, not dropped.
  c.check('currency', { required: required || amount !== undefined });
  if (currency !== undefined && c.errors.length === before && !isCurrency(currency)) c.add('currency', 'must be an ISO 4217 currency code', oppFields.currency['x-known-code']);
  if (amount === undefined) { if (required) c.add('amount', 'may not be empty'); return undefined; }
  const pattern = amountPatternIn(currency);
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
  // Contact and address fields: never refused over their format, only over length or control
  // characters (phones as people write them: `+1 (555) 123-4567 ext. 89`, `0049.30.1234`, `-`).
  for (const name of ['customer.email', 'customer.givenName', 'customer.middleName', 'customer.surname', 'customer.companyName',
    'customer.phone', 'customer.mobile', 'customer.ip', 'customer.birthDate', 'customer.sex'] as const) c.check(name);
  // The pattern admits an address's characters only; its structure is node:net's to judge (an
  // IPv4-mapped IPv6 address, `::ffff:192.0.2.1`, is what a dual-stack server reads for an IPv4
  // shopper; `beef` is no address).
  const ip = p['customer.ip'];
  if (ip !== undefined && !c.errors.some((e) => e.name === 'customer.ip') && isIP(ip) === 0) c.add('customer.ip', 'must be an IPv4 or IPv6 address', '100.900.401');
  // The pattern bounds each part on its own; a day its month has not (1990-02-30) is refused too.
  const birth = p['customer.birthDate'];
  if (birth !== undefined && !c.errors.some((e) => e.name === 'customer.birthDate') && readInstant(birth) === undefined) {
    c.add('customer.birthDate', 'must be a day that exists', '100.900.450');
  }
  for (const group of ['billing', 'shipping']) {
    for (const f of ['country', 'postcode', 'city', 'state', 'street1', 'street2', 'givenName', 'surname']) c.check(`${group}.${f}` as OppField);
    // The streets' bound is their combined length.
    const streets = (p[`${group}.street1`] ?? '') + (p[`${group}.street2`] ?? '');
    if ([...streets].length > 201) c.add(`${group}.street1`, 'street1 and street2 together must not exceed 201 characters', '100.800.101');
  }
  for (const name of Object.keys(p)) {
    // Any field of an item past the hundredth is refused, as its price is: read as its name, it was dropped.
    const index = /^cart\.items\[([0-9]+)\]\./.exec(name);
    if (index && Number(index[1]) > 99) { c.add(name, 'cart may hold at most 100 items'); continue; }
    const item = /^cart\.items\[([0-9]+)\]\.(price|tax|discount|quantity)$/.exec(name);
    if (item) {
      if (item[2] === 'quantity') { if (!/^[0-9]{1,6}$/.test(p[name]!)) c.add(name, 'must match ^[0-9]{1,6}$'); }
      else {
        // In the payment's currency's decimals, as its amount (none for JPY, three for KWD).
        const pattern = amountPatternIn(p.currency);
        if (!pattern.test(p[name]!)) c.add(name, `must match ${pattern.source}`);
      }
    }
    // The shopper's browser goes to the PSP (its 3-D Secure 2 data), and a COPYandPAY widget's
    // browser may set it: bounded, and without control characters, as any text sent on.
    if (/^customer\.browser\./.test(name)) c.check('customer.browser', { as: name });
    const cp = /^customParameters\[(.*)\]$/.exec(name);
    if (cp && !/^[a-zA-Z0-9._]{3,64}$/.test(cp[1]!)) c.add(name, 'custom parameter names must match ^[a-zA-Z0-9._]{3,64}$');
  }
  for (const name of ['merchantInvoiceId', 'descriptor', 'recurringType', 'standingInstruction.mode', 'standingInstruction.type',
    'standingInstruction.source', 'standingInstruction.initialTransactionId', 'threeDSecure.eci'] as const) c.check(name);
  // The charge that sets a stored credential up is the cardholder's own (and authenticated where
  // 3-D Secure applies); merchant-initiated charges are the REPEATED ones that follow it. Taken as
  // merchant-initiated, an INITIAL charge would skip the cardholder's authentication and start the
  // scheme's chain of stored charges from a transaction the cardholder never made.
  const initialMode = p['standingInstruction.mode'] === 'INITIAL' || p.recurringType === 'INITIAL';
  if (initialMode && merchantInitiatedBy(p)) {
    c.add(p['standingInstruction.source'] === 'MIT' ? 'standingInstruction.source' : 'recurringType',
      'the INITIAL charge of a stored credential is made by the cardholder (CIT); merchant-initiated (MIT) charges are the REPEATED ones after it');
  }
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
  c.check('merchantTransactionId');
  c.check('testMode');
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

/** The 3-D Secure test switches of reference §7.5, and the result of the merchant's own 3-D Secure server. */
function readAuthentication(c: Collector): AuthenticationRequest {
  const p = c.params;
  c.check('customParameters[3DS2_enrolled]');
  c.check('customParameters[3DS2_flow]');
  c.check('threeDSecure.challengeIndicator');
  const enrolled = p['customParameters[3DS2_enrolled]'];
  const flow = p['customParameters[3DS2_flow]'];
  const external = readExternalAuthentication(c);
  return {
    enrolled: enrolled === 'true' ? true : enrolled === 'false' ? false : undefined,
    flow: flow === 'challenge' || flow === 'frictionless' ? flow : undefined,
    challengeIndicator: p['threeDSecure.challengeIndicator'],
    ...(external ? { external } : {}),
  };
}

/**
 * An external MPI's result: its cryptogram (`verificationId`) with the ECI of an authentication,
 * the id of that authentication (3-D Secure 2's `dsTransactionId` with its `version`, or 3-D
 * Secure 1's `xid`, whose version is 1.0.2) and the version. Each PSP takes a result only whole
 * (Stripe's takes none without the version and the id), so an incomplete one is refused: taken,
 * a PSP could be told nothing while the answer said the shopper was authenticated; ignored, the
 * shopper would be challenged again while the answer echoed the merchant's result as though used.
 */
function readExternalAuthentication(c: Collector): ExternalAuthentication | undefined {
  const p = c.params;
  for (const name of ['threeDSecure.verificationId', 'threeDSecure.xid', 'threeDSecure.dsTransactionId', 'threeDSecure.version'] as const) c.check(name);
  const value = p['threeDSecure.verificationId'];
  if (value === undefined) {
    if (p['threeDSecure.xid'] !== undefined || p['threeDSecure.dsTransactionId'] !== undefined) {
      c.add('threeDSecure.verificationId', 'the cryptogram of the authentication is required with its ids');
    }
    return undefined;
  }
  const eci = p['threeDSecure.eci'];
  // The ECIs are the card scheme's: one of the other family's is no authentication of this card. The
  // scheme is the number's (a co-badged brand such as CARTEBLEUE or MADA may be issued on a
  // Mastercard number), else the brand named; a stored card's is not known here.
  const number = p['card.number'];
  const scheme = (number !== undefined ? detectBrand(number) : undefined) ?? p.paymentBrand;
  const ecis = scheme === undefined ? externalEcis : externalEcisOf(scheme);
  if (eci === undefined || !ecis.includes(eci)) {
    c.add('threeDSecure.eci', 'with a verificationId, the ECI of an authentication: 05 or 06 (Visa, Amex, JCB), 02 or 01 (Mastercard, Maestro)');
    return undefined;
  }
  const ds = p['threeDSecure.dsTransactionId'];
  const xid = p['threeDSecure.xid'];
  if (ds === undefined && xid === undefined) {
    c.add('threeDSecure.dsTransactionId', 'with a verificationId, the id of the authentication: dsTransactionId (3-D Secure 2) or xid (3-D Secure 1)');
    return undefined;
  }
  // An XID is 3-D Secure 1's alone, whose one version in use is 1.0.2; 3-D Secure 2 has several.
  const version = p['threeDSecure.version'] ?? (ds === undefined ? '1.0.2' : undefined);
  if (version === undefined || (ds !== undefined && !version.startsWith('2.'))) {
    c.add('threeDSecure.version', 'with a dsTransactionId, the 3-D Secure 2 version the authentication ran under, such as 2.2.0');
    return undefined;
  }
  return { eci, authenticationValue: value, version, ...(ds !== undefined ? { dsTransactionId: ds } : {}), ...(xid !== undefined ? { xid } : {}) };
}

/** The card fields' own checks (reference §3.2 codes); `card.number` and the expiry are required. */
function checkCardFields(c: Collector) {
  const p = c.params;
  c.check('card.number', { required: true });
  c.check('card.expiryMonth', { required: true });
  c.check('card.expiryYear', { required: true });
  c.check('card.cvv');
  c.check('card.holder');
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
    let okUrl = compile(oppFields.shopperResultUrl)(url);
    try { okUrl &&= ['http:', 'https:'].includes(new URL(url).protocol); } catch { okUrl = false; }
    if (!okUrl) c.add('shopperResultUrl', oppFields.shopperResultUrl['x-message'], oppFields.shopperResultUrl['x-invalid-code']);
  }
  return url;
}

export interface InitialRequest {
  readonly type: InitialType;
  readonly amount: Money;
  /** Exactly one of `card` and `bankTransfer`. */
  readonly card: CardInput | undefined;
  readonly bankTransfer: BankTransferInput | undefined;
  readonly authentication: AuthenticationRequest;
  /** Merchant-initiated (`standingInstruction.source=MIT`): the cardholder is not there, so no 3-D Secure is asked for. */
  readonly merchantInitiated: boolean;
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
  c.check('paymentType', { required: true });
  const amount = readMoney(c, true);
  const hasCard = Object.keys(p).some((k) => k.startsWith('card.'));
  const bank = p.paymentBrand !== undefined && isBankTransferBrand(p.paymentBrand);
  if (p.paymentBrand === undefined) c.add('paymentBrand', hasCard ? 'may not be empty' : 'card properties must be set', hasCard ? '100.100.500' : '200.300.404');
  else if (bank) {
    if (hasCard) c.add('paymentBrand', 'card properties are not allowed for a bank transfer');
    if (p.paymentType === 'CD') c.add('paymentType', 'a credit (CD) goes to a card, not to a bank transfer');
    c.check('bankAccount.country', { required: true });
    c.check('bankAccount.bankName');
    c.check('bankAccount.holder');
  } else if (!isCardBrand(p.paymentBrand)) c.add('paymentBrand', 'must be a supported card or bank-transfer brand', '100.100.501');
  else if (!hasCard) c.add('paymentBrand', 'card properties must be set');
  if (hasCard) checkCardFields(c);
  const url = readShopperResultUrl(c);
  c.check('createRegistration');
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
        type: p.paymentType as InitialType, amount, card: undefined, authentication, createRegistration, merchantInitiated: false,
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
      merchantInitiated: merchantInitiatedBy(p),
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
  /** The currency named, with or without an amount (a reversal needs neither, but what it names must be the payment's). */
  readonly currency: Currency | undefined;
  readonly merchantTransactionId: string | undefined;
  readonly echo: Record<string, unknown>;
  readonly testParameters: Record<string, string>;
}

/** Validates `POST /v1/payments/{id}`: a reversal needs no amount, everything else does. */
export function readBackOffice(params: FormParams): { ok: true; value: BackOfficeRequestParams } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const t = params.paymentType;
  c.check('backOfficeType', { required: true, as: 'paymentType' });
  const amount = readMoney(c, t !== 'RV');
  const common = readCommon(c);
  const refusal = c.refusal();
  if (refusal) return { ok: false, refusal };
  const currency = params.currency !== undefined && isCurrency(params.currency) ? params.currency : undefined;
  return { ok: true, value: { type: t as BackOfficeType, amount, currency, ...common } };
}

/** Validates `POST /v1/registrations`: a card to keep, no payment. */
export function readRegistration(params: FormParams): { ok: true; value: { card: CardInput; echo: Record<string, unknown>; testMode: TestMode | undefined } } | { ok: false; refusal: Refusal } {
  const c = new Collector(params);
  const p = params;
  if (p.paymentBrand === undefined) c.add('paymentBrand', 'may not be empty', '100.100.500');
  else if (!isCardBrand(p.paymentBrand)) c.add('paymentBrand', 'must be a supported card brand', '100.100.501');
  checkCardFields(c);
  const { echo, testMode } = readCommon(c);
  const refusal = c.refusal();
  if (refusal) return { ok: false, refusal };
  return { ok: true, value: { card: cardOf(p, p.paymentBrand as CardBrand), echo, testMode } };
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
  c.check('paymentType', { required: true });
  const amount = readMoney(c, true);
  // The registration holds the card; a payment may bring its renewed expiry or another of its brands.
  const renewable = new Set(['card.cvv', 'card.expiryMonth', 'card.expiryYear']);
  for (const name of Object.keys(p)) {
    if (name.startsWith('card.') && !renewable.has(name)) c.add(name, 'the registration holds the card; only card.cvv, card.expiryMonth and card.expiryYear may be sent');
  }
  c.check('card.cvv');
  if ((p['card.expiryMonth'] === undefined) !== (p['card.expiryYear'] === undefined)) {
    c.add(p['card.expiryMonth'] === undefined ? 'card.expiryMonth' : 'card.expiryYear', 'card.expiryMonth and card.expiryYear come together');
  }
  c.check('card.expiryMonth');
  c.check('card.expiryYear');
  c.check('cardBrand', { as: 'paymentBrand' });
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
      merchantInitiated: merchantInitiatedBy(p),
      change: {
        ...(p['card.expiryMonth'] !== undefined ? { expiryMonth: p['card.expiryMonth'], expiryYear: p['card.expiryYear'] } : {}),
        ...(p.paymentBrand !== undefined ? { brand: p.paymentBrand as CardBrand } : {}),
      },
      ...common,
    },
  };
}

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
  c.check('checkoutType', { required: true, as: 'paymentType' });
  const money = readMoney(c, true);
  for (const name of Object.keys(p)) {
    if (name.startsWith('card.') || name.startsWith('bankAccount.')) c.add(name, 'the shopper enters the payment details in the widget');
  }
  if (p.paymentBrand !== undefined) c.add('paymentBrand', 'the widget offers the brands of its form\'s data-brands');
  // The shopper pays a checkout on the page: customer-initiated, whatever the backend says.
  if (p['standingInstruction.source'] === 'MIT') c.add('standingInstruction.source', 'a checkout is paid by the shopper on the page: it cannot be merchant-initiated');
  else if (merchantInitiatedBy(p)) c.add('recurringType', 'a checkout is paid by the shopper on the page: REPEATED (a charge without the shopper) needs standingInstruction.source=CIT beside it');
  readShopperResultUrl(c);
  c.check('createRegistration');
  readCommon(c);
  readAuthentication(c);
  // An outside authentication is of one card, which the shopper has not entered yet: replayed on
  // the widget's payment it would spare whatever card they enter its challenge.
  for (const name of ['threeDSecure.verificationId', 'threeDSecure.xid', 'threeDSecure.dsTransactionId'] as const) {
    if (p[name] !== undefined && !c.errors.some((e) => e.name === name)) c.add(name, 'the shopper enters the card in the widget: an authentication made before it cannot be of that card');
  }
  const registrationIds: string[] = [];
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(p)) {
    const reg = /^registrations\[([0-9]{1,2})\]\.id$/.exec(name);
    if (reg) {
      c.check('registrations[n].id', { as: name });
      if (/^[0-9a-f]{32}$/.test(value) && !registrationIds.includes(value)) registrationIds.push(value);
    } else if (!/^(authentication\.|entityId$)/.test(name)) kept[name] = value;
  }
  const refusal = c.refusal();
  if (refusal) return { ok: false, refusal };
  // Kept as the gateway prints amounts ("092.00" becomes "92.00"): the widget shows it to the shopper
  // and the payment echoes it, so both say what a payment made directly would.
  if (money) kept.amount = formatMajorUnits(money);
  return { ok: true, value: { params: kept, registrationIds } };
}
