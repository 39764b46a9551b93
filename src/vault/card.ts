import type { CardError } from './errors.ts';
import { luhnValid } from '../runtime/scrub.ts';

export { luhnValid };

export const cardBrands = [
  'VISA', 'VISAELECTRON', 'VPAY', 'MASTER', 'MAESTRO', 'AMEX', 'DINERS', 'DISCOVER', 'JCB', 'UNIONPAY',
  'DANKORT', 'ELO', 'HIPERCARD', 'CARTEBLEUE', 'MADA',
] as const;
export type CardBrand = (typeof cardBrands)[number];

export function isCardBrand(s: string): s is CardBrand {
  return (cardBrands as readonly string[]).includes(s);
}

type Range = readonly [low: number, high: number];
const inRanges = (bin6: number, ranges: readonly Range[]) => ranges.some(([lo, hi]) => bin6 >= lo && bin6 <= hi);
const prefixes = (...ps: number[]): Range[] => ps.map((p) => {
  const scale = 10 ** (6 - String(p).length);
  return [p * scale, (p + 1) * scale - 1] as const;
});

/** Elo's published BIN ranges; several sit inside Visa's, Maestro's, UnionPay's and Discover's, so they are checked first. */
const eloRanges: readonly Range[] = [
  ...prefixes(401178, 401179, 431274, 438935, 451416, 457393, 457631, 457632, 504175, 627780, 636297, 636368),
  [506699, 506778], [509000, 509999], [650031, 650033], [650035, 650051], [650405, 650439], [650485, 650538],
  [650541, 650598], [650700, 650718], [650720, 650727], [650901, 650978], [651652, 651679], [655000, 655019], [655021, 655058],
];
const hipercardRanges = prefixes(606282, 384100, 384140, 384160);
const dankortRanges = prefixes(5019);
/** Visa Electron's ranges inside Visa's 4-series. */
const visaElectronRanges = prefixes(4026, 417500, 4405, 4508, 4844, 4913, 4917);

/**
 * Brand from the IIN ranges the schemes publish, most specific first: a domestic or sub-brand range
 * carved out of a wider scheme's range wins over it. Brands without ranges of their own (VPAY,
 * CARTEBLEUE, MADA: issued on Visa or Mastercard numbers) are never detected; see `brandAccepts`.
 */
export function detectBrand(pan: string): CardBrand | undefined {
  const p2 = Number(pan.slice(0, 2));
  const p3 = Number(pan.slice(0, 3));
  const p4 = Number(pan.slice(0, 4));
  const p6 = Number(pan.slice(0, 6));
  if (inRanges(p6, eloRanges)) return 'ELO';
  if (inRanges(p6, hipercardRanges)) return 'HIPERCARD';
  if (inRanges(p6, dankortRanges)) return 'DANKORT';
  if (p2 === 34 || p2 === 37) return 'AMEX';
  if (p4 >= 3528 && p4 <= 3589) return 'JCB';
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305) || p3 === 309) return 'DINERS';
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return 'DISCOVER';
  if (p2 === 62) return 'UNIONPAY';
  if ((p2 >= 51 && p2 <= 55) || (p6 >= 222100 && p6 <= 272099)) return 'MASTER';
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return 'MAESTRO';
  if (inRanges(p6, visaElectronRanges)) return 'VISAELECTRON';
  if (pan.startsWith('4')) return 'VISA';
  return undefined;
}

/**
 * Which detected brands a named brand may be paid with. A brand with ranges of its own must match
 * them, except that a Visa Electron card may be named plain VISA (it is a Visa card, and generic
 * clients only know VISA). Brands issued on other schemes' numbers are accepted on those schemes.
 */
const acceptedOn: Readonly<Partial<Record<CardBrand, readonly CardBrand[]>>> = {
  VISA: ['VISA', 'VISAELECTRON'],
  VPAY: ['VISA'],
  CARTEBLEUE: ['VISA', 'VISAELECTRON', 'MASTER', 'MAESTRO'],
  MADA: ['VISA', 'MASTER'],
};

/** True when a card named `named` may carry a number detected as `detected` (undefined: no published range). */
export function brandAccepts(named: CardBrand, detected: CardBrand | undefined): boolean {
  if (detected === undefined) return true;
  return (acceptedOn[named] ?? [named]).includes(detected);
}

/**
 * The brand of a shop's list (a COPYandPAY form's data-brands) a card detected as `detected` is paid
 * as: itself where listed, else the first listed brand that takes it (a Visa Electron card where
 * VISA alone is listed: VISA); undefined when no listed brand takes it.
 */
export function listedBrandFor(detected: CardBrand, listed: readonly string[]): CardBrand | undefined {
  if (listed.includes(detected)) return detected;
  return listed.filter(isCardBrand).find((named) => brandAccepts(named, detected));
}

/** Security-code length the brand prints on its cards. */
export function cvvLength(brand: CardBrand): number {
  return brand === 'AMEX' ? 4 : 3;
}

/**
 * A card number that cannot leak by accident: it prints, serializes and inspects as its masked
 * form; only `reveal()` gives the digits, and only the vault and PSP connectors call it.
 */
export class Pan {
  readonly #digits: string;
  constructor(digits: string) { this.#digits = digits; }
  reveal(): string { return this.#digits; }
  get bin(): string { return this.#digits.slice(0, 6); }
  get last4(): string { return this.#digits.slice(-4); }
  toString(): string { return `${this.bin}******${this.last4}`; }
  toJSON(): string { return this.toString(); }
  [Symbol.for('nodejs.util.inspect.custom')](): string { return `Pan(${this.toString()})`; }
}

/** A security code held only in memory for one authorization; never serialized. */
export class Cvv {
  readonly #digits: string;
  constructor(digits: string) { this.#digits = digits; }
  reveal(): string { return this.#digits; }
  toString(): string { return '***'; }
  toJSON(): string { return '***'; }
  [Symbol.for('nodejs.util.inspect.custom')](): string { return 'Cvv(***)'; }
}

/** Card data as it arrives from a PCI-compliant merchant. */
export interface CardInput {
  readonly pan: Pan;
  readonly cvv: Cvv | undefined;
  readonly holder: string | undefined;
  readonly expiryMonth: string;
  readonly expiryYear: string;
  readonly brand: CardBrand;
}

/** What everything outside the vault sees of a card. */
export interface MaskedCard {
  readonly id: string;
  readonly brand: CardBrand;
  readonly bin: string;
  readonly last4: string;
  readonly holder: string | undefined;
  readonly expiryMonth: string;
  readonly expiryYear: string;
}

/** True when the card's expiry month has fully passed at `nowMs` (cards are valid through the month's end). */
export function isExpired(expiryMonth: string, expiryYear: string, nowMs: number): boolean {
  const now = new Date(nowMs);
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth() + 1;
  const ey = Number(expiryYear);
  const em = Number(expiryMonth);
  return ey < y || (ey === y && em < m);
}

/** Card checks every payment and instrument needs before anything is stored (pure: the time is passed in). */
export function checkCard(card: CardInput, nowMs: number): CardError | undefined {
  const digits = card.pan.reveal();
  if (!luhnValid(digits)) return 'invalid_card_number';
  if (!brandAccepts(card.brand, detectBrand(digits))) return 'brand_mismatch';
  if (isExpired(card.expiryMonth, card.expiryYear, nowMs)) return 'card_expired';
  if (card.cvv !== undefined && card.cvv.reveal().length !== cvvLength(card.brand)) return 'cvv_brand_mismatch';
  return undefined;
}
