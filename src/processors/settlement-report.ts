import { hasControlCharacter } from '../runtime/control-characters.ts';
import { exponentOf, formatMajorUnits, isCurrency, type Currency } from '../money/money.ts';

/**
 * A PSP's daily settlement report, in the one shape every connector's report is read into: one
 * line per transaction the acquirer settled that day, and what it paid out per currency.
 * Amounts are signed minor units: money towards the merchant is positive (a capture), money back
 * to the shopper negative (a refund, a chargeback). `net` is `gross - fee`; fees are never negative.
 */
export const settlementLineTypes = ['capture', 'refund', 'credit', 'chargeback', 'chargeback_reversal'] as const;
export type SettlementLineType = (typeof settlementLineTypes)[number];
export const isSettlementLineType = (v: unknown): v is SettlementLineType => settlementLineTypes.includes(v as SettlementLineType);

export interface SettlementLine {
  /** The gateway's reference the acquirer was sent: the operation's id. */
  readonly reference: string;
  readonly pspReference: string | undefined;
  readonly type: SettlementLineType;
  readonly gross: number;
  readonly fee: number;
  readonly net: number;
  readonly currency: Currency;
  /** YYYY-MM-DD: the day the money reaches (or leaves) the merchant's bank. */
  readonly valueDate: string;
}

export interface Payout {
  readonly currency: Currency;
  /** The sum of the day's net amounts in that currency (negative: the acquirer debits the merchant). */
  readonly amount: number;
  readonly valueDate: string;
}

export interface SettlementReport {
  /** The PSP account's name as the gateway knows it (`default`: the gateway's own acquirer). */
  readonly pspAccount: string;
  /** The merchant owning the account; absent for the default acquirer, which settles for all. */
  readonly merchantId: string | undefined;
  /** YYYY-MM-DD (UTC): the day whose transactions the report settles. */
  readonly day: string;
  readonly lines: readonly SettlementLine[];
  readonly payouts: readonly Payout[];
}

/** The file format's name, written into every report so another format is refused plainly. */
export const settlementReportFormat = 'switchyard-settlement-report/1';

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;
export const isDay = (s: unknown): s is string => typeof s === 'string' && dayPattern.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`))
  && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);

/** Signed major units with the currency's decimals: -1250 EUR → "-12.50". */
export function formatSigned(minor: number, currency: Currency): string {
  return formatMajorUnits({ amount: minor, currency });
}

function parseSigned(text: unknown, currency: Currency): number | undefined {
  if (typeof text !== 'string') return undefined;
  const e = exponentOf(currency);
  const m = (e === 0 ? /^(-?)([0-9]{1,15})$/ : new RegExp(`^(-?)([0-9]{1,15})\\.([0-9]{${e}})$`)).exec(text);
  if (!m) return undefined;
  const n = Number(m[2]) * 10 ** e + (m[3] ? Number(m[3]) : 0);
  return Number.isSafeInteger(n) ? (m[1] ? -n : n) : undefined;
}

/** The report as a JSON file: decimal strings in each line's currency, as acquirers print them. */
export function serializeSettlementReport(r: SettlementReport): string {
  return JSON.stringify({
    format: settlementReportFormat, pspAccount: r.pspAccount, ...(r.merchantId ? { merchantId: r.merchantId } : {}), day: r.day,
    lines: r.lines.map((l) => ({
      reference: l.reference, ...(l.pspReference ? { pspReference: l.pspReference } : {}), type: l.type,
      gross: formatSigned(l.gross, l.currency), fee: formatSigned(l.fee, l.currency), net: formatSigned(l.net, l.currency),
      currency: l.currency, valueDate: l.valueDate,
    })),
    payouts: r.payouts.map((p) => ({ currency: p.currency, amount: formatSigned(p.amount, p.currency), valueDate: p.valueDate })),
  }, null, 2) + '\n';
}

/**
 * Where a report stops being JSON (a download cut short ends mid-line), as the parser placed it,
 * by line and column only: its own message may quote the text around, card numbers and all.
 */
function whereJsonBreaks(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const at = /\(line (\d+) column (\d+)\)/.exec(message);
  const position = /at position (\d+)/.exec(message);
  let line: number | undefined;
  let column: number | undefined;
  if (at) { line = Number(at[1]); column = Number(at[2]); } else if (position) {
    const before = text.slice(0, Number(position[1]));
    line = before.split('\n').length;
    column = before.length - before.lastIndexOf('\n');
  }
  const endsEarly = /Unterminated|Unexpected end/i.test(message) || (position !== null && Number(position[1]) >= text.trimEnd().length);
  if (line === undefined) return endsEarly ? ': the file ends too soon' : '';
  return `: it breaks at line ${line}, column ${column}${endsEarly ? ' (the file ends too soon)' : ''}`;
}

/** The most lines, and payouts, one report may hold. */
const maxLines = 1_000_000;
const maxPayouts = 200;

/**
 * Reads a report from untrusted text (a file, an admin request); the reason it is refused
 * otherwise, naming the field. Sums are not checked here: a report whose lines disagree with its
 * payouts is still a report, and reconciliation says so.
 */
export function parseSettlementReport(input: unknown): { ok: true; value: SettlementReport } | { ok: false; error: string } {
  let o: unknown = input;
  if (typeof input === 'string') {
    // A byte-order mark, as editors on Windows save a file, is no part of the JSON (the admin API's parser drops it too).
    const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
    try { o = JSON.parse(text); } catch (err) { return { ok: false, error: `the report is not JSON${whereJsonBreaks(text, err)}` }; }
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { ok: false, error: 'the report must be an object' };
  const r = o as Record<string, unknown>;
  if (r.format !== settlementReportFormat) return { ok: false, error: `format must be ${settlementReportFormat}` };
  // Both are the PSP's text, echoed by refusals that reach logs and the operator's terminal.
  if (typeof r.pspAccount !== 'string' || r.pspAccount === '' || r.pspAccount.length > 128 || hasControlCharacter(r.pspAccount)) return { ok: false, error: 'pspAccount must be a name' };
  if (r.merchantId !== undefined && (typeof r.merchantId !== 'string' || r.merchantId === '' || r.merchantId.length > 128 || hasControlCharacter(r.merchantId))) {
    return { ok: false, error: 'merchantId must be a merchant id' };
  }
  if (!isDay(r.day)) return { ok: false, error: 'day must be a date YYYY-MM-DD' };
  if (!Array.isArray(r.lines)) return { ok: false, error: 'lines must be a list' };
  // A PSP's month in one file may pass the limits: said so, with the limit, so that it is split by day.
  if (r.lines.length > maxLines) return { ok: false, error: `lines holds ${r.lines.length} lines, more than the ${maxLines.toLocaleString('en')} one report may hold: import it in parts (a report per day)` };
  if (!Array.isArray(r.payouts)) return { ok: false, error: 'payouts must be a list' };
  if (r.payouts.length > maxPayouts) return { ok: false, error: `payouts holds ${r.payouts.length} payouts, more than the ${maxPayouts} one report may hold` };
  const lines: SettlementLine[] = [];
  for (const [i, x] of (r.lines as unknown[]).entries()) {
    const at = `lines[${i}]`;
    if (typeof x !== 'object' || x === null) return { ok: false, error: `${at} must be an object` };
    const l = x as Record<string, unknown>;
    if (typeof l.reference !== 'string' || l.reference === '' || l.reference.length > 128) return { ok: false, error: `${at}.reference must be a string of at most 128 characters` };
    if (l.pspReference !== undefined && (typeof l.pspReference !== 'string' || l.pspReference.length > 128)) return { ok: false, error: `${at}.pspReference must be a string` };
    // No reference holds one, and PostgreSQL refuses a NUL in text.
    if (hasControlCharacter(l.reference) || (l.pspReference !== undefined && hasControlCharacter(l.pspReference as string))) return { ok: false, error: `${at}: a reference must not contain control characters` };
    if (!isSettlementLineType(l.type)) return { ok: false, error: `${at}.type must be one of ${settlementLineTypes.join(', ')}` };
    if (typeof l.currency !== 'string' || !isCurrency(l.currency)) return { ok: false, error: `${at}.currency must be an ISO 4217 code` };
    const gross = parseSigned(l.gross, l.currency), fee = parseSigned(l.fee, l.currency), net = parseSigned(l.net, l.currency);
    if (gross === undefined) return { ok: false, error: `${at}.gross must be a decimal amount in ${l.currency}` };
    if (fee === undefined || fee < 0) return { ok: false, error: `${at}.fee must be a non-negative decimal amount in ${l.currency}` };
    if (net === undefined) return { ok: false, error: `${at}.net must be a decimal amount in ${l.currency}` };
    if (!isDay(l.valueDate)) return { ok: false, error: `${at}.valueDate must be a date YYYY-MM-DD` };
    lines.push({ reference: l.reference, pspReference: l.pspReference as string | undefined, type: l.type, gross, fee, net, currency: l.currency, valueDate: l.valueDate });
  }
  const payouts: Payout[] = [];
  for (const [i, x] of (r.payouts as unknown[]).entries()) {
    const at = `payouts[${i}]`;
    if (typeof x !== 'object' || x === null) return { ok: false, error: `${at} must be an object` };
    const p = x as Record<string, unknown>;
    if (typeof p.currency !== 'string' || !isCurrency(p.currency)) return { ok: false, error: `${at}.currency must be an ISO 4217 code` };
    const amount = parseSigned(p.amount, p.currency);
    if (amount === undefined) return { ok: false, error: `${at}.amount must be a decimal amount in ${p.currency}` };
    if (!isDay(p.valueDate)) return { ok: false, error: `${at}.valueDate must be a date YYYY-MM-DD` };
    payouts.push({ currency: p.currency, amount, valueDate: p.valueDate });
  }
  return { ok: true, value: { pspAccount: r.pspAccount, merchantId: r.merchantId as string | undefined, day: r.day, lines, payouts } };
}
