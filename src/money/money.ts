import { exponentOf, isCurrency, type Currency } from './currencies.ts';

export { isCurrency, exponentOf, type Currency };

/** An amount of money: an integer count of the currency's minor units. */
export interface Money {
  readonly amount: number;
  readonly currency: Currency;
}

export function money(amount: number, currency: Currency): Money {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`invalid minor-unit amount ${amount}`);
  return { amount, currency };
}

/**
 * Reads a decimal string in major units ("92.00", "1500" for JPY, "1.250" for KWD). The fraction,
 * when present, must have exactly the currency's number of decimals. Returns undefined otherwise;
 * dialects decide what error that is.
 */
export function parseMajorUnits(text: string, currency: Currency): Money | undefined {
  const e = exponentOf(currency);
  const m = /^([0-9]{1,15})(?:\.([0-9]+))?$/.exec(text);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  if (frac.length !== 0 && frac.length !== e) return undefined;
  const amount = Number(m[1]) * 10 ** e + (frac === '' ? 0 : Number(frac));
  if (!Number.isSafeInteger(amount)) return undefined;
  return { amount, currency };
}

/** Prints major units with exactly the currency's decimals: 9200 EUR → "92.00", 1500 JPY → "1500", -5 EUR → "-0.05". */
export function formatMajorUnits(m: Money): string {
  const e = exponentOf(m.currency);
  if (e === 0) return String(m.amount);
  // The sign apart: padded with it, -5 would read "0.-5".
  const s = String(Math.abs(m.amount)).padStart(e + 1, '0');
  return `${m.amount < 0 ? '-' : ''}${s.slice(0, -e)}.${s.slice(-e)}`;
}

/**
 * Ten major units as the currency writes them (`10.00` EUR, `10` JPY, `10.000` KWD): the example a
 * refusal names must be one the same check takes, in the currency it was refused in.
 */
export const exampleAmount = (currency: string): string =>
  (isCurrency(currency) ? formatMajorUnits({ amount: 10 * 10 ** exponentOf(currency), currency }) : '10.00');
