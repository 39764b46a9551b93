import { createHmac } from 'node:crypto';
import { holdsCardNumber, replacePans } from '../runtime/scrub.ts';

/**
 * Card numbers typed into fields that are not card fields. Two answers, chosen per field by each
 * dialect (see docs/compatibility.md):
 * - **refuse** where the field is human text (a name, an address, a description): no real value
 *   there holds 13–19 digits that pass the Luhn check, so one that does is a card number in the
 *   wrong box, and the request is refused naming the field;
 * - **mask** where the field is a reference or merchant data (order numbers, custom parameters,
 *   metadata): a numeric reference passes the Luhn check one time in ten, so refusing would break
 *   legitimate orders. The run of digits is replaced by `****<last 4>_<12 hex>`, the hex being a
 *   keyed hash of the digits: equal references stay equal (lookups, duplicate checks and
 *   idempotency keep working), different ones stay different, and nothing stored or echoed can be
 *   turned back into the number without the gateway's key.
 */
export interface CardDataScreen {
  /** Whether `text` holds something that looks like a card number. */
  holdsPan(text: string): boolean;
  /** `text` with each card-number-looking run replaced by its keyed mask; unchanged when there is none. */
  mask(text: string): string;
  /**
   * A JSON value with every string (keys too) masked, and every integer that looks like a card
   * number turned into its masked string; `refuse(path)` lists the paths whose values are refused
   * instead, `skip(path)` those left alone (the card fields themselves, ids with their own format).
   * Returns the masked value, or the first refused path holding a card number.
   */
  maskJson(value: unknown, opts?: { refuse?: (path: string) => boolean; skip?: (path: string) => boolean; path?: string }):
    { ok: true; value: unknown } | { ok: false; path: string };
}

/**
 * A field outside the card fields whose name says it holds a card's security code and whose value
 * reads as one (three or four digits): a merchant that put the code there. Unlike a card number a
 * code has no shape of its own, so the name is what tells, and its value is never kept: it is
 * replaced by `securityCodeMask` wherever it would be stored, answered or sent on. The name's last
 * part is read word by word (split at separators and camelCase), so `cvv`, `CVV2`, `card.cvc`,
 * `securityCode`, `card_security_code`, `SHOPPER_cvv` (the /v1 custom-parameter convention) and
 * `cvvNumber` are all codes; a word that makes it a fact about the code (`cvv_check`, `cvvPolicy`,
 * `cvvResult`) does not hold one, and a value that is no code is merchant data, kept as sent.
 */
export function holdsSecurityCode(name: string, value: unknown): boolean {
  // Read on every parameter of every request: the value's length rules out nearly all at once.
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
  if (text.length < 3 || text.length > 4 || !/^[0-9]+$/.test(text)) return false;
  const last = name.split(/[.[\]]/).filter(Boolean).at(-1) ?? '';
  const words = last.replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  if (words.some((w) => aboutTheCode.has(w))) return false;
  // Any run of words written together or apart: `cvv`, `SHOPPER_cvv`, `cardcvv`, `securitycode`,
  // `card_security_code`. A run longer than the longest code name cannot be one: stopping there keeps
  // this linear in the name (every run of a name of thousands of words, each joined anew, held the
  // event loop for seconds on one request, before its caller was even authenticated).
  for (let i = 0; i < words.length; i++) {
    let run = '';
    for (let j = i; j < words.length && run.length <= longestCodeName; j++) {
      run += words[j];
      if (codeName.test(run)) return true;
    }
  }
  return false;
}
const codeName = /^(card)?(cvv2?|cvc2?|cvn2?|cav2|securitycode|verificationcode|verificationvalue)$/;
const longestCodeName = 'cardverificationvalue'.length;
/** Words that make a field a fact about the code (a check's result, a policy), not the code. */
const aboutTheCode = new Set(['check', 'checked', 'policy', 'result', 'response', 'status', 'required', 'mode', 'flag', 'indicator', 'present', 'match', 'enabled', 'rule', 'length']);

/** What a security code found outside the card fields is stored, answered and sent on as. */
export const securityCodeMask = '***';

export function createCardDataScreen(key: Buffer): CardDataScreen {
  const masked = (digits: string) => `****${digits.slice(-4)}_${createHmac('sha256', key).update(digits).digest('hex').slice(0, 12)}`;
  const mask = (text: string) => replacePans(text, masked);
  const holdsPan = (text: string) => holdsCardNumber(text);

  function maskJson(value: unknown, opts: { refuse?: (path: string) => boolean; skip?: (path: string) => boolean; path?: string } = {}) {
    let refused: string | undefined;
    const walk = (v: unknown, path: string): unknown => {
      if (refused !== undefined || (path && opts.skip?.(path))) return v;
      if (holdsSecurityCode(path, v)) return securityCodeMask;
      // Any number is read as it prints: a card number with a fraction (`4242…4242.5`) keeps its digits.
      if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) {
        const text = String(v);
        if (!holdsPan(text)) return v;
        if (opts.refuse?.(path)) { refused = path; return v; }
        return mask(text);
      }
      if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
      if (v !== null && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          const name = holdsPan(k) ? mask(k) : k;
          out[name] = walk(x, path ? `${path}.${k}` : k);
        }
        return out;
      }
      return v;
    };
    const out = walk(value, opts.path ?? '');
    return refused !== undefined ? { ok: false as const, path: refused } : { ok: true as const, value: out };
  }

  return { holdsPan, mask, maskJson };
}
