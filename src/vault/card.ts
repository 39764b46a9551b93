import type { CardError } from './errors.ts';
import { luhnValid } from '../runtime/scrub.ts';

export { luhnValid };

export const cardBrands = ['VISA', 'MASTER', 'AMEX', 'DINERS', 'DISCOVER', 'JCB', 'MAESTRO', 'UNIONPAY'] as const;
export type CardBrand = (typeof cardBrands)[number];

export function isCardBrand(s: string): s is CardBrand {
  return (cardBrands as readonly string[]).includes(s);
}

/** Brand from the IIN ranges the schemes publish (longest, most specific prefixes first). */
export function detectBrand(pan: string): CardBrand | undefined {
  const p2 = Number(pan.slice(0, 2));
  const p3 = Number(pan.slice(0, 3));
  const p4 = Number(pan.slice(0, 4));
  const p6 = Number(pan.slice(0, 6));
  if (p2 === 34 || p2 === 37) return 'AMEX';
  if (p4 >= 3528 && p4 <= 3589) return 'JCB';
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305) || p3 === 309) return 'DINERS';
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return 'DISCOVER';
  if (p2 === 62) return 'UNIONPAY';
  if ((p2 >= 51 && p2 <= 55) || (p6 >= 222100 && p6 <= 272099)) return 'MASTER';
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return 'MAESTRO';
  if (pan.startsWith('4')) return 'VISA';
  return undefined;
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
  const detected = detectBrand(digits);
  if (detected !== undefined && detected !== card.brand) return 'brand_mismatch';
  if (isExpired(card.expiryMonth, card.expiryYear, nowMs)) return 'card_expired';
  if (card.cvv !== undefined && card.cvv.reveal().length !== cvvLength(card.brand)) return 'cvv_brand_mismatch';
  return undefined;
}
