import { exampleAmount, exponentOf, formatMajorUnits, isCurrency, type Currency } from '../money/money.ts';
import { fail, ok, type Result } from '../runtime/result.ts';
import { paymentStatuses, type InitialKind, type PaymentStatus } from '../payments/model.ts';
import { channels, type Channel, type PaymentMethod } from '../payments/store.ts';
import { hasControlCharacter } from '../runtime/control-characters.ts';
import { readInstant } from '../runtime/instant.ts';

/**
 * Finding payments across both dialects: one filter, read from a query string by the dashboard,
 * the admin API and the CLI alike, and the list it answers, newest first, by cursor.
 */
export interface PaymentFilter {
  /** One search box: a payment, operation or execution id, an order reference (merchant transaction id), a PSP reference, or a card's last four digits. */
  readonly q?: string | undefined;
  /** Exactly this payment (a page about one payment: never another that merely names its id as a reference). */
  readonly id?: string | undefined;
  readonly merchantId?: string | undefined;
  readonly status?: PaymentStatus | undefined;
  readonly currency?: Currency | undefined;
  readonly pspAccountId?: string | undefined;
  readonly channel?: Channel | undefined;
  /** Made at or after (epoch ms). */
  readonly from?: number | undefined;
  /** Made before (epoch ms). */
  readonly to?: number | undefined;
  /** Minor units of `currency`, inclusive. */
  readonly minAmount?: number | undefined;
  readonly maxAmount?: number | undefined;
  /** Only payments with an operation whose outcome is unknown (what the reconciler waits on: an initial's, or a capture's, refund's or void's). */
  readonly unknownOutcome?: boolean | undefined;
  /**
   * Only payments with a capture, refund or void its PSP accepted and has not finished (answered
   * pending): one a PSP carries out later by itself may stay so for days, its amount held meanwhile.
   */
  readonly pendingAtPsp?: boolean | undefined;
  /** Payments older than this one (the previous page's last). */
  readonly after?: Cursor | undefined;
  readonly limit: number;
}

export interface Cursor { readonly createdAt: number; readonly id: string }

/** A payment as a list shows it. */
export interface PaymentSummary {
  readonly id: string;
  readonly merchantId: string;
  readonly merchantName: string;
  readonly channel: Channel;
  readonly kind: InitialKind;
  readonly status: PaymentStatus;
  readonly amount: number;
  readonly currency: string;
  readonly method: PaymentMethod;
  readonly card: { readonly brand: string; readonly last4: string } | undefined;
  /** The opening operation's merchant transaction id (the executions dialect's merchant reference). */
  readonly reference: string | undefined;
  /** The opening operation's id (the /v1 payment id). */
  readonly operationId: string | undefined;
  readonly pspReference: string | undefined;
  readonly pspAccountId: string | undefined;
  readonly pspAccountName: string | undefined;
  readonly live: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface PaymentPage {
  readonly payments: PaymentSummary[];
  /** Give as `cursor` for the next (older) page; absent on the last page. */
  readonly next: string | undefined;
}

/** What else the store knows of one payment: its shopper challenges and the webhooks sent about it. */
export interface PaymentRelated {
  readonly challenges: { id: string; purpose: string; status: string; createdAt: number; expiresAt: number; resolvedAt: number | undefined }[];
  /** The executions dialect's execution of the payment. */
  readonly executionId: string | undefined;
  readonly webhooks: WebhookDeliveryTrace[];
}

export interface WebhookDeliveryTrace {
  readonly eventId: string;
  readonly eventType: string;
  readonly endpointId: string;
  readonly url: string;
  readonly deliveryId: string;
  readonly status: string;
  readonly attempts: number;
  readonly createdAt: number;
  readonly deliveredAt: number | undefined;
  readonly lastStatus: number | undefined;
  readonly lastError: string | undefined;
  readonly attemptLog: { at: number; httpStatus: number | undefined; latencyMs: number; error: string | undefined }[];
}

/** What an operator checks first: the day's payments, how each PSP account answers, what is stuck. */
export interface Overview {
  /** Payments made since the start, by currency and status. */
  readonly volume: { currency: string; status: string; count: number; amount: number }[];
  /** First attempts of those payments' authorizations, by PSP account, outcome and decline reason. */
  readonly attempts: { account: string; status: string; reason: string | undefined; count: number }[];
  /** Operations whose PSP answer was lost, waiting for the reconciler. */
  readonly unknownWaiting: number;
  /** Captures, refunds and voids their PSP answered pending and has not finished. */
  readonly pendingAtPsp: number;
  /** Webhook deliveries not yet accepted by their receiver, and the oldest one's creation time. */
  readonly webhookBacklog: { pending: number; oldest: number | undefined };
}

export interface PaymentSearch {
  list(filter: PaymentFilter): Promise<PaymentPage>;
  related(paymentId: string, operationIds: readonly string[]): Promise<PaymentRelated>;
  overview(since: number, merchantId: string | undefined): Promise<Overview>;
}

export const encodeCursor = (c: Cursor): string => Buffer.from(`${c.createdAt}.${c.id}`).toString('base64url');

export function decodeCursor(s: string): Cursor | undefined {
  const m = /^(\d{1,16})\.([0-9a-zA-Z-]{1,64})$/.exec(Buffer.from(s, 'base64url').toString());
  return m ? { createdAt: Number(m[1]), id: m[2]! } : undefined;
}

export interface FilterProblem { readonly field: string; readonly message: string }

export const maxPageSize = 200;

/** A decimal in major units ("10", "10.5", "10.50") as minor units of the currency. */
function minorUnits(text: string, currency: Currency): number | undefined {
  const e = exponentOf(currency);
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(text.trim());
  if (!m || (m[2] ?? '').length > e) return undefined;
  const n = Number(m[1]) * 10 ** e + Number((m[2] ?? '').padEnd(e, '0') || '0');
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A date (`2026-05-01`, a whole UTC day) or an ISO instant; `end` moves a bare date to the next day's start. */
function instant(text: string, end: boolean): number | undefined {
  return readInstant(text.trim(), { end });
}

const hex32 = /^[0-9a-f]{32}$/;

/**
 * Reads a filter from query parameters: q, merchant, status, outcome, currency, account, channel, from, to
 * (dates or ISO instants, UTC), min, max (major units of `currency`), cursor, limit. Empty values
 * are ignored; anything else that does not read is named.
 */
export const defaultPageSize = 50;

/**
 * A value without the blanks (space, tab, CR, LF) a form or a paste adds at either end. A loop: the
 * regular expression `[ \t\r\n]+$` is tried from every blank of a run that something else follows,
 * so a filter of 16,000 spaces held the event loop a quarter of a second.
 */
function trimBlanks(s: string): string {
  const blank = (c: number) => c === 32 || c === 9 || c === 13 || c === 10;
  let start = 0;
  let end = s.length;
  while (start < end && blank(s.charCodeAt(start))) start++;
  while (end > start && blank(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

export function parseFilter(query: Readonly<Record<string, unknown>>, defaultLimit = defaultPageSize): Result<PaymentFilter, FilterProblem> {
  const v = (k: string): string | undefined => {
    const x = query[k];
    const s = Array.isArray(x) ? x[0] : x;
    if (typeof s !== 'string') return undefined;
    // Only the spaces a form or a paste adds: String.trim would also take the ideographic space or
    // no-break space a reference was sent with (`注文-7\u3000`), and the search would miss it.
    const t = trimBlanks(s);
    return t !== '' ? t : undefined;
  };
  const problem = (field: string, message: string) => fail({ field, message });
  // A filter given twice with different values is a question with two answers: taking the first
  // answered one of them in silence (the dialects refuse a repeated parameter too).
  for (const [k, x] of Object.entries(query)) {
    if (Array.isArray(x) && new Set(x).size > 1) return problem(k, 'is given more than once, with different values');
  }
  const q = v('q');
  if (q !== undefined && q.length > 256) return problem('q', 'is longer than 256 characters');
  // Nothing stored holds a control character to be found by one (and PostgreSQL refuses a NUL).
  if (q !== undefined && hasControlCharacter(q)) return problem('q', 'may not hold control characters');
  const merchantId = v('merchant');
  if (merchantId !== undefined && !hex32.test(merchantId)) return problem('merchant', 'must be a merchant id (32 hex characters)');
  const status = v('status');
  if (status !== undefined && !(paymentStatuses as readonly string[]).includes(status)) return problem('status', `must be one of ${paymentStatuses.join(', ')}`);
  const outcome = v('outcome');
  if (outcome !== undefined && outcome !== 'unknown' && outcome !== 'pending') {
    return problem('outcome', 'must be unknown (payments with an operation whose outcome is unknown) or pending (with a capture, refund or void pending at its PSP)');
  }
  const currencyText = v('currency')?.toUpperCase();
  if (currencyText !== undefined && !isCurrency(currencyText)) return problem('currency', 'must be an ISO 4217 currency code');
  const currency = currencyText as Currency | undefined;
  const channel = v('channel');
  if (channel !== undefined && !(channels as readonly string[]).includes(channel)) return problem('channel', `must be one of ${channels.join(', ')}`);
  const account = v('account');
  if (account !== undefined && (account.length > 64 || hasControlCharacter(account))) return problem('account', 'must be a PSP account id');
  const fromText = v('from');
  const from = fromText === undefined ? undefined : instant(fromText, false);
  if (fromText !== undefined && from === undefined) return problem('from', 'must be a date (2026-05-01) or an ISO instant');
  const toText = v('to');
  const to = toText === undefined ? undefined : instant(toText, true);
  if (toText !== undefined && to === undefined) return problem('to', 'must be a date (2026-05-01) or an ISO instant');
  const amounts: Record<'min' | 'max', number | undefined> = { min: undefined, max: undefined };
  for (const k of ['min', 'max'] as const) {
    const text = v(k);
    if (text === undefined) continue;
    if (!currency) return problem(k, 'needs a currency: amounts are compared in that currency\'s units');
    const n = minorUnits(text, currency);
    if (n === undefined) return problem(k, `must be an amount in ${currency} such as ${exampleAmount(currency)}`);
    amounts[k] = n;
  }
  const cursorText = v('cursor');
  const after = cursorText === undefined ? undefined : decodeCursor(cursorText);
  if (cursorText !== undefined && !after) return problem('cursor', 'is not a cursor this list gave');
  const limitText = v('limit');
  // Digits only, as every other list reads it: Number() also reads 0x10, 1e1 and +5.
  const limit = limitText === undefined ? defaultLimit : /^[0-9]{1,4}$/.test(limitText) ? Number(limitText) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) return problem('limit', `must be a whole number from 1 to ${maxPageSize}`);
  return ok({
    q, merchantId, status: status as PaymentStatus | undefined, currency, pspAccountId: account, channel: channel as Channel | undefined,
    from, to, minAmount: amounts.min, maxAmount: amounts.max, ...(outcome === 'unknown' ? { unknownOutcome: true } : {}), ...(outcome === 'pending' ? { pendingAtPsp: true } : {}), after, limit,
  });
}

/** The filter as query parameters again (links to the next page keep every filter). */
export function filterQuery(f: PaymentFilter, extra: Record<string, string> = {}): URLSearchParams {
  const p = new URLSearchParams();
  const set = (k: string, x: string | number | undefined) => { if (x !== undefined && x !== '') p.set(k, String(x)); };
  set('q', f.q); set('merchant', f.merchantId); set('status', f.status); set('currency', f.currency);
  if (f.unknownOutcome) set('outcome', 'unknown');
  if (f.pendingAtPsp) set('outcome', 'pending');
  set('account', f.pspAccountId); set('channel', f.channel);
  // A whole day is printed as the day the form's date field shows (a bare `to` is read as the end of
  // its day, so the day before the instant it stands for); any other instant in full.
  const dayMs = 86_400_000;
  const asDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  if (f.from !== undefined) set('from', f.from % dayMs === 0 ? asDay(f.from) : new Date(f.from).toISOString());
  if (f.to !== undefined) set('to', f.to % dayMs === 0 ? asDay(f.to - dayMs) : new Date(f.to).toISOString());
  if (f.limit !== defaultPageSize) set('limit', f.limit);
  // Printed exactly (a float division loses the last digits of large amounts, changing the filter between pages).
  const major = (n: number | undefined) => n === undefined || !f.currency ? undefined : formatMajorUnits({ amount: n, currency: f.currency });
  set('min', major(f.minAmount)); set('max', major(f.maxAmount));
  for (const [k, x] of Object.entries(extra)) set(k, x);
  return p;
}
