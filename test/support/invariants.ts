/**
 * An independent check of the money invariants, straight over the tables with SQL. It shares no
 * code with the engine (no totals, no state machine): a bug in the engine's own arithmetic cannot
 * hide itself here. The same statements run on SQLite and PostgreSQL.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../src/storage/schema.ts';

export interface Violation {
  /** Which invariant: `captured_exceeds_authorized`, `stale_in_flight`, `duplicate_merchant_transaction_id`, … */
  readonly rule: string;
  /** The rows concerned (payment, transaction or execution ids). */
  readonly ids: readonly string[];
  readonly detail: string;
}

export interface InvariantOptions {
  /** Epoch ms the age checks are measured from (defaults to now). */
  readonly now?: number;
  /**
   * A pending or unknown transaction (or a *Requested / unknown execution) last changed longer ago
   * than this is stuck: after reconciliation nothing may stay reserved by a finished operation.
   * Undefined skips the age checks (while load is still running).
   */
  readonly inFlightMaxAgeMs?: number;
  /** The same for `awaiting` transactions (a shopper at a hosted page): the asynchronous timeout plus slack. */
  readonly awaitingMaxAgeMs?: number;
  /** Only payments of these merchants (default: all). */
  readonly merchantIds?: readonly string[];
}

const n = (v: unknown) => Number(v ?? 0);

interface PaymentSums {
  payment_id: string;
  method: string;
  initial_type: string | null;
  initial_status: string | null;
  currencies: number;
  initials: number;
  authorized: number;
  captured: number;
  reversed: number;
  refunded: number;
  charged_back: number;
  cb_reversed: number;
  in_flight: number;
  in_flight_captures: number;
  in_flight_refunds: number;
  late_captures: number;
}

/** Per-payment sums of settled money, computed by the database (minor units). */
async function paymentSums(db: Kysely<Database>, merchantIds: readonly string[] | undefined): Promise<PaymentSums[]> {
  const ok = (types: string) => sql.raw(`CASE WHEN t.status = 'succeeded' AND t.type IN (${types}) THEN t.amount ELSE 0 END`);
  const open = (types: string) => sql.raw(`CASE WHEN t.status IN ('pending', 'unknown', 'awaiting') AND t.type IN (${types}) THEN t.amount ELSE 0 END`);
  const where = merchantIds ? sql`WHERE p.merchant_id IN (${sql.join(merchantIds.map((m) => sql`${m}`))})` : sql``;
  // A receipt (RC) is captured money only on a bank transfer's authorization: a card authorization
  // is captured by the acquirer (CP), never by the merchant's say-so.
  const receipt = sql.raw(`CASE WHEN t.status = 'succeeded' AND t.type = 'receipt' AND p.method = 'bank_transfer' AND p.initial_type = 'authorize' THEN t.amount ELSE 0 END`);
  const rows = await sql<PaymentSums>`
    SELECT p.id AS payment_id, p.method AS method,
      MAX(CASE WHEN t.type IN ('authorize', 'sale', 'sale') THEN t.type END) AS initial_type,
      MAX(CASE WHEN t.type IN ('authorize', 'sale', 'sale') THEN t.status END) AS initial_status,
      COUNT(DISTINCT t.currency) AS currencies,
      SUM(CASE WHEN t.type IN ('authorize', 'sale', 'sale') THEN 1 ELSE 0 END) AS initials,
      SUM(${ok(`'authorize', 'sale', 'sale', 'rebill'`)}) AS authorized,
      SUM(${ok(`'sale', 'sale', 'rebill', 'capture'`)}) + SUM(${receipt}) AS captured,
      SUM(${ok(`'void'`)}) AS reversed,
      SUM(${ok(`'refund'`)}) AS refunded,
      SUM(${ok(`'chargeback'`)}) AS charged_back,
      SUM(${ok(`'chargeback_reversal'`)}) AS cb_reversed,
      SUM(CASE WHEN t.status IN ('pending', 'unknown') THEN 1 ELSE 0 END) AS in_flight,
      SUM(${open(`'capture'`)}) AS in_flight_captures,
      SUM(${open(`'refund'`)}) AS in_flight_refunds,
      SUM(CASE WHEN t.type = 'capture' AND t.status <> 'failed' AND EXISTS (
        SELECT 1 FROM transactions v WHERE v.payment_id = p.id AND v.type = 'void' AND v.status = 'succeeded' AND v.seq < t.seq
      ) THEN 1 ELSE 0 END) AS late_captures
    FROM payments p JOIN transactions t ON t.payment_id = p.id
    ${where}
    GROUP BY p.id, p.method`.execute(db);
  return rows.rows.map((r) => ({
    ...r,
    currencies: n(r.currencies), initials: n(r.initials), authorized: n(r.authorized), captured: n(r.captured), reversed: n(r.reversed),
    refunded: n(r.refunded), charged_back: n(r.charged_back), cb_reversed: n(r.cb_reversed), in_flight: n(r.in_flight),
    in_flight_captures: n(r.in_flight_captures), in_flight_refunds: n(r.in_flight_refunds), late_captures: n(r.late_captures),
  }));
}

/** Every violation of the money invariants in the store; an empty list when the books are sound. */
export async function checkInvariants(db: Kysely<Database>, options: InvariantOptions = {}): Promise<Violation[]> {
  const now = options.now ?? Date.now();
  const out: Violation[] = [];
  const add = (rule: string, ids: string[], detail: string) => out.push({ rule, ids, detail });
  const sums = await paymentSums(db, options.merchantIds);
  const byPayment = new Map(sums.map((s) => [s.payment_id, s]));

  for (const s of sums) {
    const id = [s.payment_id];
    if (s.initials !== 1) add('initial_transaction_count', id, `${s.initials} initial transactions`);
    if (s.currencies !== 1) add('mixed_currencies', id, `${s.currencies} currencies on one payment`);
    // The acquirer holds `authorized`; captures and the released remainder come out of it.
    if (s.captured + s.reversed > s.authorized) {
      add('captured_exceeds_authorized', id, `captured ${s.captured} + reversed ${s.reversed} > authorized ${s.authorized}`);
    }
    if (s.late_captures > 0) add('capture_after_reversal', id, `${s.late_captures} capture(s) not failed after a successful reversal`);
    if (s.cb_reversed > s.charged_back) add('chargeback_reversal_exceeds_chargeback', id, `reversed ${s.cb_reversed} > charged back ${s.charged_back}`);
    const out_ = s.refunded + (s.charged_back - s.cb_reversed);
    if (out_ > s.captured) add('refunded_exceeds_captured', id, `refunded ${s.refunded} + charged back ${s.charged_back - s.cb_reversed} > captured ${s.captured}`);
    if (s.initial_status !== 'succeeded' && (s.captured > 0 || s.refunded > 0)) add('money_on_unsuccessful_payment', id, `initial ${s.initial_status}, captured ${s.captured}, refunded ${s.refunded}`);
  }

  const scope = options.merchantIds ? sql`AND t.merchant_id IN (${sql.join(options.merchantIds.map((m) => sql`${m}`))})` : sql``;
  if (options.inFlightMaxAgeMs !== undefined) {
    const stale = await sql<{ id: string; payment_id: string; type: string; status: string; updated_at: number }>`
      SELECT t.id, t.payment_id, t.type, t.status, t.updated_at FROM transactions t
      WHERE t.status IN ('pending', 'unknown') AND t.updated_at < ${now - options.inFlightMaxAgeMs} ${scope}`.execute(db);
    for (const t of stale.rows) add('stale_in_flight', [t.payment_id, t.id], `${t.type} ${t.status} since ${now - n(t.updated_at)} ms`);
  }
  if (options.awaitingMaxAgeMs !== undefined) {
    const stale = await sql<{ id: string; payment_id: string; type: string; updated_at: number }>`
      SELECT t.id, t.payment_id, t.type, t.updated_at FROM transactions t
      WHERE t.status = 'awaiting' AND t.updated_at < ${now - options.awaitingMaxAgeMs} ${scope}`.execute(db);
    for (const t of stale.rows) add('stale_awaiting', [t.payment_id, t.id], `${t.type} awaiting since ${now - n(t.updated_at)} ms`);
  }

  // An entity that refuses duplicate merchantTransactionIds holds at most one successful payment per id.
  const dups = await sql<{ entity_id: string; merchant_transaction_id: string; ids: number }>`
    SELECT t.entity_id, t.merchant_transaction_id, COUNT(*) AS ids FROM transactions t JOIN entities e ON e.id = t.entity_id
    WHERE e.unique_merchant_tx = 1 AND t.merchant_transaction_id IS NOT NULL AND t.type IN ('authorize', 'sale', 'sale') AND t.status = 'succeeded' ${scope}
    GROUP BY t.entity_id, t.merchant_transaction_id HAVING COUNT(*) > 1`.execute(db);
  for (const d of dups.rows) {
    const ids = await db.selectFrom('transactions').select('payment_id').where('entity_id', '=', d.entity_id)
      .where('merchant_transaction_id', '=', d.merchant_transaction_id).where('status', '=', 'succeeded').where('type', 'in', ['authorize', 'sale', 'sale']).execute();
    add('duplicate_merchant_transaction_id', ids.map((r) => r.payment_id), `${n(d.ids)} successful payments for merchantTransactionId ${JSON.stringify(d.merchant_transaction_id)}`);
  }

  out.push(...await executionViolations(db, byPayment, now, options));
  return out;
}

/** Each execution's status must be what its payment's transactions say. */
async function executionViolations(db: Kysely<Database>, byPayment: Map<string, PaymentSums>, now: number, options: InvariantOptions): Promise<Violation[]> {
  const out: Violation[] = [];
  let q = db.selectFrom('executions').select(['id', 'status', 'payment_id', 'updated_at', 'capture_closed']);
  if (options.merchantIds) q = q.where('merchant_id', 'in', [...options.merchantIds]);
  const rows = await q.execute();
  const add = (rule: string, e: { id: string; payment_id: string | null }, detail: string) =>
    out.push({ rule, ids: e.payment_id ? [e.id, e.payment_id] : [e.id], detail });
  for (const e of rows) {
    const age = now - n(e.updated_at);
    const stale = options.inFlightMaxAgeMs !== undefined && age > options.inFlightMaxAgeMs;
    if (['authorizeRequested', 'captureRequested', 'unknown'].includes(e.status) && stale) {
      const s = e.payment_id ? byPayment.get(e.payment_id) : undefined;
      add('stale_execution', e, `${e.status} for ${age} ms; its payment: ${s ? `initial ${s.initial_status}, ${s.in_flight} in flight, captured ${s.captured}` : 'none'}`);
      continue;
    }
    if (!e.payment_id) {
      if (!['created', 'authorizeRequested', 'authorizePending', 'authorizeFailed', 'unknown'].includes(e.status)) add('execution_without_payment', e, `${e.status} without a payment`);
      continue;
    }
    const s = byPayment.get(e.payment_id);
    if (!s) { add('execution_payment_missing', e, `${e.status}: payment ${e.payment_id} has no transactions`); continue; }
    const authorizedOk = s.initial_status === 'succeeded';
    const settledCaptures = s.captured;
    const says = (cond: boolean, what: string) => { if (!cond) add('execution_disagrees', e, `${e.status} but ${what} (authorized ${s.authorized}, captured ${settledCaptures}, reversed ${s.reversed}, refunded ${s.refunded}, in flight ${s.in_flight})`); };
    switch (e.status) {
      case 'authorizeFailed': says(!authorizedOk, 'its payment is authorized'); break;
      case 'authorized': says(authorizedOk && settledCaptures === 0 && s.reversed === 0, 'its payment is not simply authorized'); break;
      case 'captureRequested': says(s.in_flight_captures > 0 || !stale, 'no capture is in flight'); break;
      case 'captureFailed': says(authorizedOk && s.reversed === 0, 'the authorization is gone'); break;
      case 'partiallyCaptured': says(settledCaptures > 0 && settledCaptures < s.authorized, 'captured is not a part of the authorization'); break;
      case 'captured': says(settledCaptures > 0 && (settledCaptures === s.authorized || n(e.capture_closed) === 1), 'nothing or not all was captured'); break;
      case 'partiallyRefunded': says(s.refunded > 0 && s.refunded < settledCaptures, 'refunds are not a part of the captures'); break;
      case 'refunded': says(settledCaptures > 0 && s.refunded >= settledCaptures, 'not all was refunded'); break;
      case 'refundFailed': says(settledCaptures > 0, 'nothing was captured'); break;
      case 'cancelled': says(s.in_flight > 0 || s.reversed > 0 || (settledCaptures > 0 && s.refunded >= settledCaptures), 'neither voided nor fully refunded'); break;
    }
  }
  return out;
}

/** One line per violation, for assertion messages and the chaos summary. */
export function describeViolations(vs: readonly Violation[], max = 20): string {
  const lines = vs.slice(0, max).map((v) => `${v.rule} [${v.ids.join(', ')}]: ${v.detail}`);
  if (vs.length > max) lines.push(`… and ${vs.length - max} more`);
  return lines.join('\n');
}
