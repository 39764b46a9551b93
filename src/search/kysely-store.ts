/**
 * The operators' search over payments (dashboard, admin API, CLI). A read model: it joins the tables
 * of every concern a payment touches (its card, challenges, execution, webhook deliveries), so it
 * sits above them all and writes none.
 */
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { toOwedDelivery } from '../webhooks/kysely-store.ts';
import { isInitialKind, paymentStatuses, type PaymentStatus } from '../payments/model.ts';
import { encodeCursor, type Overview, type PaymentFilter, type PaymentSearch, type PaymentSummary } from './model.ts';

/** Above this many payments found by one search, the list reads them through a subquery instead. */
const maxCandidates = 2000;

/** Payment ids a search text names: a payment, operation or execution id, an order or PSP reference, a card's last four. */
function candidateQuery(db: Kysely<Database>, text: string, masked: string) {
  // An order reference holding a card number was stored masked: the operator types it as the merchant knows it.
  // Accented letters are stored as the merchant's system wrote them, composed (é) or decomposed
  // (e + ◌́), and typed by the operator in either: both forms are looked for.
  const references = [...new Set([text, masked, text.normalize('NFC'), text.normalize('NFD')])];
  let u = db.selectFrom('payments').select('id').where('id', '=', text)
    .union(db.selectFrom('transactions').select('payment_id as id').where('id', '=', text))
    .union(db.selectFrom('transactions').select('payment_id as id').where('merchant_transaction_id', 'in', references))
    .union(db.selectFrom('transactions').select('payment_id as id').where('psp_reference', '=', text))
    .union(db.selectFrom('executions').select('payment_id as id').where('id', '=', text).where('payment_id', 'is not', null) as never);
  if (/^\d{4}$/.test(text)) {
    u = u.union(db.selectFrom('payments').select('id').where('card_id', 'in', db.selectFrom('cards').select('id').where('last4', '=', text)));
  }
  return u;
}

/** The filter, as the list's SQL applies it, over payments a search already found. */
function matches(r: { id: string; merchant_id: string; status: string; currency: string; amount: number | string; psp_account_id: string | null; channel: string; created_at: number | string }, f: PaymentFilter): boolean {
  const at = Number(r.created_at), amount = Number(r.amount);
  return (f.merchantId === undefined || r.merchant_id === f.merchantId) && (f.status === undefined || r.status === f.status)
    && (f.currency === undefined || r.currency === f.currency) && (f.pspAccountId === undefined || r.psp_account_id === f.pspAccountId)
    && (f.channel === undefined || r.channel === f.channel) && (f.from === undefined || at >= f.from) && (f.to === undefined || at < f.to)
    && (f.minAmount === undefined || amount >= f.minAmount) && (f.maxAmount === undefined || amount <= f.maxAmount)
    && (f.after === undefined || at < f.after.createdAt || (at === f.after.createdAt && r.id < f.after.id));
}

/**
 * The payments with an operation whose outcome is unknown, or with a follow-up pending at its PSP
 * (answered pending: an operation still being sent has no code yet). Few at any time, found through
 * the operations' status index.
 */
function withOutcome(db: Kysely<Database>, f: Pick<PaymentFilter, 'unknownOutcome' | 'pendingAtPsp'>) {
  const q = db.selectFrom('transactions').select('payment_id');
  return f.unknownOutcome ? q.where('status', '=', 'unknown') : pendingAtPsp(q);
}

const pendingAtPsp = <Q extends SelectQueryBuilder<Database, 'transactions', object>>(q: Q): Q =>
  q.where('status', '=', 'pending').where('seq', '>', 0).where('result_code', 'is not', null) as Q;

async function candidates(db: Kysely<Database>, text: string, masked: string): Promise<string[]> {
  const rows = await candidateQuery(db, text, masked).limit(maxCandidates + 1).execute();
  return rows.map((r) => r.id);
}

/**
 * The payment list over the store, newest first. Every search key has an index (migration 080),
 * so a search reads only the payments it finds, and a filtered list walks the (created_at, id)
 * index from the cursor.
 */
/** `maskReference`: the card-data screen's mask, as references holding a card number were stored. */
export function createPaymentSearch(db: Kysely<Database>, maskReference: (text: string) => string = (t) => t): PaymentSearch {
  return {
    async list(f) {
      let q = db.selectFrom('payments as p')
        .leftJoin('transactions as t', (j) => j.onRef('t.payment_id', '=', 'p.id').on('t.seq', '=', 0))
        .leftJoin('cards as c', 'c.id', 'p.card_id')
        .leftJoin('merchants as m', 'm.id', 'p.merchant_id')
        .leftJoin('psp_accounts as a', 'a.id', 'p.psp_account_id')
        .select([
          'p.id', 'p.merchant_id', 'p.channel', 'p.initial_type', 'p.status', 'p.amount', 'p.currency', 'p.method', 'p.mode',
          'p.psp_account_id', 'p.created_at', 'p.updated_at', 'c.brand', 'c.last4', 'm.name as merchant_name', 'a.name as account_name',
          't.id as operation_id', 't.merchant_transaction_id', 't.psp_reference',
        ]);
      // Whether the filters were applied to the payments a search found (then the SQL below must not
      // repeat them: an equality on merchant or status would lure the planner onto that index again).
      let filtered = false;
      if (f.q !== undefined) {
        // The search keys first, each one index probe; then the filters and the order over the few
        // payments found. A planner left to choose would rather walk a date index and test every payment.
        const found = await candidates(db, f.q, maskReference(f.q));
        if (found.length === 0) return { payments: [], next: undefined };
        if (found.length <= maxCandidates) {
          const rows = await db.selectFrom('payments')
            .select(['id', 'merchant_id', 'status', 'currency', 'amount', 'psp_account_id', 'channel', 'created_at'])
            .where('id', 'in', found).execute();
          const waiting = f.unknownOutcome || f.pendingAtPsp
            ? new Set((await withOutcome(db, f).where('payment_id', 'in', found).execute()).map((r) => r.payment_id))
            : undefined;
          const page = rows.filter((r) => matches(r, f) && (!waiting || waiting.has(r.id)))
            .sort((a, b) => Number(b.created_at) - Number(a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
            .slice(0, f.limit + 1).map((r) => r.id);
          if (page.length === 0) return { payments: [], next: undefined };
          q = q.where('p.id', 'in', page);
          filtered = true;
        } else {
          q = q.where('p.id', 'in', (eb) => candidateQuery(eb as never, f.q!, maskReference(f.q!)));
        }
      }
      if (f.id !== undefined) q = q.where('p.id', '=', f.id);
      if (!filtered) {
        // Few at any time, found through the operations' status index.
        if (f.unknownOutcome || f.pendingAtPsp) q = q.where('p.id', 'in', withOutcome(db, f));
        if (f.merchantId !== undefined) q = q.where('p.merchant_id', '=', f.merchantId);
        if (f.status !== undefined) q = q.where('p.status', '=', f.status);
        if (f.currency !== undefined) q = q.where('p.currency', '=', f.currency);
        if (f.pspAccountId !== undefined) q = q.where('p.psp_account_id', '=', f.pspAccountId);
        if (f.channel !== undefined) q = q.where('p.channel', '=', f.channel);
        if (f.from !== undefined) q = q.where('p.created_at', '>=', f.from);
        if (f.to !== undefined) q = q.where('p.created_at', '<', f.to);
        if (f.minAmount !== undefined) q = q.where('p.amount', '>=', f.minAmount);
        if (f.maxAmount !== undefined) q = q.where('p.amount', '<=', f.maxAmount);
        const after = f.after;
        if (after) {
          // A row value, which both stores read as one range of the (…, created_at, id) index.
          q = q.where((eb) => eb(eb.refTuple('p.created_at', 'p.id'), '<', eb.tuple(after.createdAt, after.id)));
        }
      }
      const rows = await q.orderBy('p.created_at', 'desc').orderBy('p.id', 'desc').limit(f.limit + 1).execute();
      const page = rows.slice(0, f.limit).map((r): PaymentSummary => ({
        id: r.id, merchantId: r.merchant_id, merchantName: r.merchant_name ?? '', channel: r.channel === 'executions' ? 'executions' : 'opp',
        kind: isInitialKind(r.initial_type) ? r.initial_type : 'authorize',
        status: (paymentStatuses as readonly string[]).includes(r.status) ? r.status as PaymentStatus : 'unknown',
        amount: Number(r.amount), currency: r.currency, method: r.method === 'bank_transfer' ? 'bank_transfer' : 'card',
        card: r.last4 ? { brand: r.brand ?? '', last4: r.last4 } : undefined,
        reference: r.merchant_transaction_id ?? undefined, operationId: r.operation_id ?? undefined, pspReference: r.psp_reference ?? undefined,
        pspAccountId: r.psp_account_id ?? undefined, pspAccountName: r.account_name ?? undefined, live: r.mode === 'live',
        createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
      }));
      const last = page.at(-1);
      return { payments: page, next: rows.length > f.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined };
    },
    related: (paymentId, operationIds) => paymentRelated(db, paymentId, operationIds),
    overview: (since, merchantId) => overviewSince(db, since, merchantId),
  };
}

/** What else the store knows of one payment: its shopper challenges and the webhooks sent about it. */
interface PaymentRelatedRows {
  readonly challenges: { id: string; purpose: string; status: string; createdAt: number; expiresAt: number; resolvedAt: number | undefined }[];
  readonly executionId: string | undefined;
  readonly webhooks: {
    eventId: string; eventType: string; endpointId: string; url: string; deliveryId: string; status: string; attempts: number;
    createdAt: number; deliveredAt: number | undefined; lastStatus: number | undefined; lastError: string | undefined;
    attemptLog: { at: number; httpStatus: number | undefined; latencyMs: number; error: string | undefined }[];
  }[];
}

async function paymentRelated(db: Kysely<Database>, paymentId: string, operationIds: readonly string[]): Promise<PaymentRelatedRows> {
  const challenges = await db.selectFrom('challenges').select(['id', 'purpose', 'status', 'created_at', 'expires_at', 'resolved_at'])
    .where('subject_kind', '=', 'payment').where('subject_id', '=', paymentId).orderBy('created_at').execute();
  const execution = await db.selectFrom('executions').select('id').where('payment_id', '=', paymentId).executeTakeFirst();
  const subjects = [paymentId, ...operationIds, ...(execution ? [execution.id] : [])];
  const deliveries = await db.selectFrom('outbox as o')
    .innerJoin('webhook_deliveries as d', 'd.event_id', 'o.id')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select(['o.id as event_id', 'o.type', 'd.id', 'd.endpoint_id', 'e.url', 'd.status', 'd.attempts', 'd.created_at', 'd.delivered_at', 'd.last_status', 'd.last_error'])
    .where('o.subject_id', 'in', subjects).orderBy('d.created_at').orderBy('d.id').execute();
  const attempts = deliveries.length === 0 ? [] : await db.selectFrom('webhook_attempts')
    .select(['delivery_id', 'attempted_at', 'http_status', 'latency_ms', 'error'])
    .where('delivery_id', 'in', deliveries.map((d) => d.id)).orderBy('attempted_at').execute();
  return {
    executionId: execution?.id,
    challenges: challenges.map((c) => ({
      id: c.id, purpose: c.purpose, status: c.status, createdAt: Number(c.created_at), expiresAt: Number(c.expires_at),
      resolvedAt: c.resolved_at === null ? undefined : Number(c.resolved_at),
    })),
    webhooks: deliveries.map((d) => ({
      eventId: d.event_id, eventType: d.type, endpointId: d.endpoint_id, url: d.url, deliveryId: d.id, status: d.status,
      attempts: Number(d.attempts), createdAt: Number(d.created_at), deliveredAt: d.delivered_at === null ? undefined : Number(d.delivered_at),
      lastStatus: d.last_status ?? undefined, lastError: d.last_error ?? undefined,
      attemptLog: attempts.filter((a) => a.delivery_id === d.id).map((a) => ({
        at: Number(a.attempted_at), httpStatus: a.http_status ?? undefined, latencyMs: Number(a.latency_ms), error: a.error ?? undefined,
      })),
    })),
  };
}

/** The overview's counts, each read through an index: payments by date, attempts by operation, open operations and deliveries by status. */
async function overviewSince(db: Kysely<Database>, since: number, merchantId: string | undefined): Promise<Overview> {
  let volume = db.selectFrom('payments as p').select(['p.currency', 'p.status'])
    .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.sum<string | number>('p.amount').as('amount')])
    .where('p.created_at', '>=', since);
  if (merchantId !== undefined) volume = volume.where('p.merchant_id', '=', merchantId);
  let attempts = db.selectFrom('payments as p').innerJoin('attempts as a', 'a.transaction_id', 'p.id')
    .select(['a.account_name', 'a.status', 'a.reason']).select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('p.created_at', '>=', since);
  if (merchantId !== undefined) attempts = attempts.where('p.merchant_id', '=', merchantId);
  let unknown = db.selectFrom('transactions').select((eb) => eb.fn.countAll<string | number>().as('n')).where('status', '=', 'unknown');
  if (merchantId !== undefined) unknown = unknown.where('merchant_id', '=', merchantId);
  let pending = pendingAtPsp(db.selectFrom('transactions').select((eb) => eb.fn.countAll<string | number>().as('n')));
  if (merchantId !== undefined) pending = pending.where('merchant_id', '=', merchantId);
  let backlog = db.selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.min<string | number | null>('created_at').as('oldest')])
    .where('status', '=', 'pending').where(toOwedDelivery);
  if (merchantId !== undefined) backlog = backlog.where('merchant_id', '=', merchantId);
  const [v, a, u, held, b] = await Promise.all([
    volume.groupBy(['p.currency', 'p.status']).execute(),
    attempts.groupBy(['a.account_name', 'a.status', 'a.reason']).execute(),
    unknown.executeTakeFirstOrThrow(), pending.executeTakeFirstOrThrow(), backlog.executeTakeFirstOrThrow(),
  ]);
  return {
    volume: v.map((r) => ({ currency: r.currency, status: r.status, count: Number(r.n), amount: Number(r.amount ?? 0) })),
    attempts: a.map((r) => ({ account: r.account_name, status: r.status, reason: r.reason ?? undefined, count: Number(r.n) })),
    unknownWaiting: Number(u.n),
    pendingAtPsp: Number(held.n),
    webhookBacklog: { pending: Number(b.n), oldest: b.oldest === null ? undefined : Number(b.oldest) },
  };
}
