import { formatMajorUnits, isCurrency } from '../money/money.ts';

/** Minor units printed with the currency's decimals: 9200 EUR → "92.00 EUR". */
export const amountText = (amount: number, currency: string): string =>
  `${isCurrency(currency) ? formatMajorUnits({ amount, currency }) : String(amount)} ${currency}`;


/** UTC, to the second: operators across time zones read the same instant. */
export const timeText = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');

/**
 * A decimal string in major units, or undefined when it does not read in the currency. A comma is
 * read as the decimal mark, except before exactly three digits: "1,000" is one thousand to half the
 * world's operators and one to the other half, which in a three-decimal currency (KWD, BHD) would
 * move a thousandth of what was meant. Such an amount is refused, to be typed again with a point.
 */
export function parseAmount(text: string, currency: string): number | undefined {
  if (!isCurrency(currency)) return undefined;
  const exponent = formatMajorUnits({ amount: 0, currency }).split('.')[1]?.length ?? 0;
  const m = /^(\d{1,15})(?:([.,])(\d+))?$/.exec(text.trim());
  if (!m || (m[3] ?? '').length > exponent) return undefined;
  if (m[2] === ',' && m[3]!.length === 3) return undefined;
  const n = Number(m[1]) * 10 ** exponent + Number((m[3] ?? '').padEnd(exponent, '0') || '0');
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
