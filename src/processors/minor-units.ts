import { exponentOf, formatMajorUnits, isCurrency, type Money } from '../money/money.ts';

/**
 * How a PSP counts a currency where it departs from ISO 4217, as its own currency table says:
 * `exponents` gives its number of decimals (Adyen counts Chilean pesos in hundredths, Stripe counts
 * Malagasy ariary whole), `multipleOf` the granularity it accepts in its own minor units (Stripe
 * takes three-decimal dinars only in tens).
 */
export interface PspCurrencyTable {
  readonly exponents: Readonly<Record<string, number>>;
  readonly multipleOf?: Readonly<Record<string, number>>;
}

/**
 * An amount in the PSP's own minor units. Money inside the gateway is ISO minor units; sent as they
 * are, a currency the PSP counts differently is charged a hundred times too much or too little. An
 * amount the PSP cannot express (CVE 100.50 to a PSP counting whole escudos) is refused by a throw,
 * never rounded: the connector declines it before anything is sent.
 */
export function pspMinorUnits(m: Money, table: PspCurrencyTable): number {
  const iso = exponentOf(m.currency);
  const psp = table.exponents[m.currency] ?? iso;
  let value: number;
  if (psp >= iso) {
    value = m.amount * 10 ** (psp - iso);
  } else {
    const factor = 10 ** (iso - psp);
    if (m.amount % factor !== 0) throw new Error(`${m.currency} ${formatMajorUnits(m)} cannot be sent: this PSP takes ${m.currency} in ${psp === 0 ? 'whole units' : `${psp} decimals`}`);
    value = m.amount / factor;
  }
  const step = table.multipleOf?.[m.currency] ?? 1;
  if (value % step !== 0) throw new Error(`${m.currency} ${formatMajorUnits(m)} cannot be sent: this PSP takes ${m.currency} only in steps of ${step} minor units`);
  if (!Number.isSafeInteger(value)) throw new Error(`${m.currency} ${formatMajorUnits(m)} is beyond what this PSP can be sent`);
  return value;
}

/**
 * Refuses a PSP's answer that names another amount or currency than was asked (both in the PSP's
 * own minor units): money may have moved as nobody asked, so it is not recorded as this request's
 * outcome. Thrown, the attempt stays unknown and is looked up again, and then left to an operator.
 */
export function answeredAsAsked(psp: string, asked: { value: number; currency: string }, answered: { value: unknown; currency: unknown }): void {
  if (answered.value === undefined && answered.currency === undefined) return;
  if (answered.value !== asked.value || String(answered.currency).toUpperCase() !== asked.currency.toUpperCase()) {
    throw new Error(`${psp} answered for ${String(answered.currency)} ${String(answered.value)} (its minor units) where ${asked.currency} ${asked.value} was asked: not taken as this request's outcome`);
  }
}

/**
 * What a PSP's notification states it moved, for the engine to compare with what was asked: nothing
 * when it names no amount, `unreadable` when the amount it names has no ISO equivalent.
 */
export function statedAmount(value: unknown, currency: unknown, table: PspCurrencyTable): { amount?: Money | 'unreadable' } {
  if (value === undefined && currency === undefined) return {};
  return { amount: isoMinorUnits(value, currency, table) ?? 'unreadable' };
}

/** An amount a PSP states in its own minor units, as ISO minor units; undefined when it has no such value. */
export function isoMinorUnits(value: unknown, currency: unknown, table: PspCurrencyTable): Money | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || typeof currency !== 'string' || !isCurrency(currency.toUpperCase())) return undefined;
  const code = currency.toUpperCase() as Money['currency'];
  const iso = exponentOf(code);
  const psp = table.exponents[code] ?? iso;
  if (psp <= iso) return { amount: value * 10 ** (iso - psp), currency: code };
  const factor = 10 ** (psp - iso);
  return value % factor === 0 ? { amount: value / factor, currency: code } : undefined;
}
