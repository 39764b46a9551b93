import { exampleAmount, isCurrency, parseMajorUnits, type Money } from '../../money/money.ts';
import { Cvv, Pan, detectBrand, type CardInput } from '../../vault/card.ts';
import type { ReturnInfo } from '../../executions/model.ts';
import type { CardDataScreen } from '../../vault/free-text.ts';
import { fieldOf, type SchemaError } from '../../runtime/json-schema.ts';
import { scrubPans } from '../../runtime/scrub.ts';
import { hasControlCharacter } from '../../runtime/control-characters.ts';
import { characterCount } from '../../runtime/utf8.ts';

/** A refused field: the dialect answers `request.param.invalid` / `request.param.missing` naming it. */
export class ParamError extends Error {
  readonly missing: boolean;
  constructor(field: string, problem: string, missing = false) {
    super(`${field}: ${problem}`);
    this.missing = missing;
  }
}

export type Json = Record<string, unknown>;

/** A schema refusal (schemas.ts) in the dialect's words: the field, then what is wrong with it. */
export function paramErrorOf(e: SchemaError, context: string | undefined): ParamError {
  const field = context === 'body' || context === undefined ? fieldOf(e) : fieldOf(e) === 'body' ? context : fieldOf(e);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': return new ParamError(field, 'is required', true);
    case 'type': {
      const t = String(p.type).split(',')[0];
      return new ParamError(field, t === 'object' ? 'must be an object' : t === 'boolean' ? 'must be true or false' : t === 'array' ? 'must be a list' : t === 'number' ? 'must be a number' : 'must be a non-empty string');
    }
    case 'maxLength': return new ParamError(field, `must be at most ${String(p.limit)} characters`);
    case 'minLength': return new ParamError(field, 'must be a non-empty string');
    case 'pattern': return new ParamError(field, 'has an invalid format');
    case 'enum': return new ParamError(field, `must be one of ${(p.allowedValues as unknown[]).filter((v) => v !== null).join(', ')}`);
    case 'minItems': case 'maxItems': return new ParamError(field, `must list ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`);
    case 'additionalProperties': return new ParamError(scrubPans(field), 'is not a field of this request (a misspelt field is refused, not ignored: an action without its amount takes the whole amount)');
    default: return new ParamError(field, e.message ?? 'is invalid');
  }
}

/**
 * Card numbers outside the card fields (the per-field decision; docs/compatibility.md): the card
 * holder's name and a refund's or cancel's free-text description are refused — no real value
 * there looks like a card number; references and `meta` (merchant data, where a numeric order
 * number may pass the Luhn check by chance) are masked. The card fields themselves and ids with
 * their own format are left to their own checks.
 */
const refusedWithCardNumber = /^(data\.holderName|holderName|reasonDescription)$/;
const notScreened = /^(data\.(cardNumber|securityCode|expiryMonth|expiryYear|encryptedData)|cardNumber|securityCode|expiryMonth|expiryYear|encryptedInstrumentDetails|id|workspaceId|paymentComposition\[[0-9]+\]\.paymentInstrumentId)$/;

/** A JSON body with card numbers masked where tolerated; throws the field's `request.param.invalid` where not. */
export function screenCardData(body: unknown, screen: CardDataScreen, path = ''): unknown {
  const r = screen.maskJson(body, { refuse: (p) => refusedWithCardNumber.test(p), skip: (p) => notScreened.test(p), path });
  if (!r.ok) throw new ParamError(r.path, 'must not contain a card number (send card data only in the card fields)');
  return r.value;
}

/** JSON nesting a request may have: far deeper than any request of this dialect (meta included) needs. */
export const maxJsonDepth = 64;

/** Whether a parsed JSON value nests objects and arrays deeper than `limit`; without recursion. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limit) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return false;
}

export function objectAt(body: unknown, field: string, required: boolean): Json | undefined {
  if (body === undefined || body === null) {
    if (required) throw new ParamError(field, 'is required', true);
    return undefined;
  }
  if (typeof body !== 'object' || Array.isArray(body)) throw new ParamError(field, 'must be an object');
  return body as Json;
}

export function stringAt(o: Json, key: string, opts: { required?: boolean; max?: number; pattern?: RegExp; path?: string } = {}): string | undefined {
  const v = o[key];
  const field = opts.path ?? key;
  if (v === undefined || v === null) {
    if (opts.required) throw new ParamError(field, 'is required', true);
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0) throw new ParamError(field, 'must be a non-empty string');
  // Characters, as the published schema (and /v1) count them: an emoji is one, not two UTF-16 units.
  if (v.length > (opts.max ?? 255) && characterCount(v) > (opts.max ?? 255)) throw new ParamError(field, `must be at most ${opts.max ?? 255} characters`);
  if (hasControlCharacter(v)) throw new ParamError(field, 'must not contain control characters');
  if (opts.pattern && !opts.pattern.test(v)) throw new ParamError(field, 'has an invalid format');
  return v;
}

export function booleanAt(o: Json, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ParamError(key, 'must be true or false');
  return v;
}

/** `{value: "12.50", currency: "EUR"}` → minor units; the value must have the currency's decimals. */
export function moneyAt(o: Json, key: string, required: boolean, path = key): Money | undefined {
  const m = objectAt(o[key], path, required);
  if (!m) return undefined;
  const currency = stringAt(m, 'currency', { required: true, path: `${path}.currency` })!;
  if (!isCurrency(currency)) throw new ParamError(`${path}.currency`, 'must be an ISO 4217 currency code');
  const value = m.value;
  if (value === undefined || value === null) throw new ParamError(`${path}.value`, 'is required', true);
  if (typeof value !== 'string') throw new ParamError(`${path}.value`, 'must be a decimal string such as "12.50"');
  const parsed = parseMajorUnits(value, currency);
  if (!parsed) throw new ParamError(`${path}.value`, `must be a decimal string with the currency's decimals, such as "${exampleAmount(currency)}"`);
  if (parsed.amount === 0) throw new ParamError(`${path}.value`, 'must be greater than zero');
  return parsed;
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Decision 3: absolute https URLs; http only on loopback for test merchants. */
export function returnUrl(value: string, field: string, live: boolean): string {
  let u: URL;
  try { u = new URL(value); } catch { throw new ParamError(field, 'must be an absolute URL'); }
  if (u.protocol === 'https:') return u.href;
  if (u.protocol === 'http:' && !live && loopback.has(u.hostname)) return u.href;
  throw new ParamError(field, 'must be an https URL');
}

export function returnInfoAt(o: Json, live: boolean): ReturnInfo {
  const r = objectAt(o.returnInfo, 'returnInfo', true)!;
  const url = (k: 'success' | 'cancel' | 'error' | 'pending', required: boolean) => {
    const s = stringAt(r, k, { required, max: 2048, path: `returnInfo.${k}` });
    return s === undefined ? undefined : returnUrl(s, `returnInfo.${k}`, live);
  };
  const success = url('success', true)!;
  const cancel = url('cancel', false);
  const error = url('error', false);
  const pending = url('pending', false);
  return { success, ...(cancel ? { cancel } : {}), ...(error ? { error } : {}), ...(pending ? { pending } : {}) };
}

/** Decision 9: the card fields of a server-side instrument. */
export function cardAt(data: Json): CardInput {
  const number = stringAt(data, 'cardNumber', { required: true, max: 23, path: 'data.cardNumber' })!.replace(/[ -]/g, '');
  if (!/^[0-9]{12,19}$/.test(number)) throw new ParamError('data.cardNumber', 'must be 12 to 19 digits');
  const month = stringAt(data, 'expiryMonth', { required: true, max: 2, path: 'data.expiryMonth' })!;
  if (!/^(0?[1-9]|1[0-2])$/.test(month)) throw new ParamError('data.expiryMonth', 'must be 01 to 12');
  const yearText = stringAt(data, 'expiryYear', { required: true, max: 4, path: 'data.expiryYear' })!;
  if (!/^([0-9]{2}|[0-9]{4})$/.test(yearText)) throw new ParamError('data.expiryYear', 'must have two or four digits');
  // The optional fields left empty (a form's box nobody filled, which the public CSE library
  // encrypts as it is) are absent, not wrong: refused, the whole card was.
  const optional = (key: string) => (typeof data[key] === 'string' && (data[key] as string).trim() === '' ? { ...data, [key]: undefined } : data);
  const cvv = stringAt(optional('securityCode'), 'securityCode', { max: 4, path: 'data.securityCode' });
  if (cvv !== undefined && !/^[0-9]{3,4}$/.test(cvv)) throw new ParamError('data.securityCode', 'must be 3 or 4 digits');
  const holder = stringAt(optional('holderName'), 'holderName', { max: 128, path: 'data.holderName' });
  const brand = detectBrand(number);
  if (!brand) throw new ParamError('data.cardNumber', 'belongs to no supported card network');
  return {
    pan: new Pan(number), cvv: cvv === undefined ? undefined : new Cvv(cvv), holder,
    expiryMonth: month.padStart(2, '0'), expiryYear: yearText.length === 2 ? `20${yearText}` : yearText, brand,
  };
}

/** `waitWhile[status]`: a JSON array of codes or a single code (reference §0.1.3). */
export function waitWhileOf(raw: unknown): Set<string> | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new ParamError('waitWhile[status]', 'must be given once');
  let codes: unknown;
  if (raw.trimStart().startsWith('[')) {
    try { codes = JSON.parse(raw); } catch { throw new ParamError('waitWhile[status]', 'must be a JSON array of status codes or one code'); }
  } else codes = [raw];
  if (!Array.isArray(codes) || codes.length > 40 || !codes.every((c) => typeof c === 'string' && /^[A-Za-z]{1,40}$/.test(c))) {
    throw new ParamError('waitWhile[status]', 'must be a JSON array of status codes or one code');
  }
  return new Set(codes as string[]);
}

/**
 * A request body as its idempotency key remembers it: without the security code (`data.securityCode`,
 * or at the top level), which is never kept in any form once it has been used, not even hashed.
 * A retry that changes only the code is the same request.
 */
export function withoutSecurityCode(body: unknown): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  const { securityCode: _dropped, ...rest } = body as Record<string, unknown>;
  const data = rest.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return rest;
  const { securityCode: _alsoDropped, ...keptData } = data as Record<string, unknown>;
  return { ...rest, data: keptData };
}
