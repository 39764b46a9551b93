import type { FastifyInstance } from 'fastify';
import { attemptsOfOperation } from '../payments/model.ts';
import { formatMajorUnits, isCurrency } from '../money/money.ts';
import type { PaymentService } from '../payments/service.ts';
import { parseFilter, type PaymentSearch, type PaymentSummary } from '../search/model.ts';
import type { LedgerService } from '../ledger/service.ts';
import { adminError, guardAdminApi } from './api-guard.ts';
import { adminSchemas } from './schemas.ts';

export interface PaymentAdminDeps {
  search: PaymentSearch;
  payments: Pick<PaymentService, 'details'>;
  ledger: Pick<LedgerService, 'paymentPostings'>;
  /** The operator token every request must bear. */
  token: string;
}

const decimal = (amount: number, currency: string) => isCurrency(currency) ? formatMajorUnits({ amount, currency }) : String(amount);
const iso = (ms: number | undefined) => ms === undefined ? undefined : new Date(ms).toISOString();

/** A payment in a list, as the admin API and the CLI print it (amounts as decimal strings). */
export function summaryJson(p: PaymentSummary) {
  return {
    id: p.id, operationId: p.operationId, merchantId: p.merchantId, merchantName: p.merchantName, channel: p.channel, kind: p.kind,
    status: p.status, amount: decimal(p.amount, p.currency), currency: p.currency, method: p.method, card: p.card,
    reference: p.reference, pspReference: p.pspReference, pspAccountId: p.pspAccountId, pspAccountName: p.pspAccountName,
    mode: p.live ? 'live' : 'test', createdAt: iso(p.createdAt), updatedAt: iso(p.updatedAt),
  };
}

/** One payment's whole story: operations, attempts with latency, 3-D Secure, webhook deliveries, postings. */
export async function paymentStoryJson(deps: Pick<PaymentAdminDeps, 'search' | 'payments' | 'ledger'>, id: string) {
  const d = /^[0-9a-f]{32}$/.test(id) ? await deps.payments.details(id) : undefined;
  if (!d) return undefined;
  const [list, related, postings] = await Promise.all([
    deps.search.list({ id, limit: 1 }), deps.search.related(id, d.operations.map((o) => o.id)), deps.ledger.paymentPostings(id),
  ]);
  const cur = d.payment.currency;
  return {
    payment: list.payments[0] ? summaryJson(list.payments[0]) : { id, merchantId: d.payment.merchantId, status: d.payment.status },
    executionId: related.executionId,
    operations: d.operations.map((o) => ({
      id: o.id, seq: o.seq, kind: o.kind, status: o.status, amount: decimal(o.amount.amount, cur), currency: cur, reason: o.reason,
      resultCode: o.resultCode, pspReference: o.pspReference, merchantTransactionId: o.merchantTransactionId,
      unknownSince: iso(o.unknownSince), createdAt: iso(o.createdAt), updatedAt: iso(o.updatedAt),
      attempts: attemptsOfOperation(d.attempts, o.id).map((a) => ({
        id: a.id, seq: a.seq, account: a.accountName, accountId: a.accountId, connector: a.connector, authenticated: a.authenticated,
        status: a.status, reason: a.reason, resultCode: a.resultCode, pspReference: a.pspReference,
        latencyMs: a.status === 'pending' ? undefined : a.updatedAt - a.createdAt, createdAt: iso(a.createdAt),
      })),
    })),
    threeDSecure: related.challenges.map((c) => ({ ...c, createdAt: iso(c.createdAt), expiresAt: iso(c.expiresAt), resolvedAt: iso(c.resolvedAt) })),
    webhooks: related.webhooks.map((w) => ({
      ...w, createdAt: iso(w.createdAt), deliveredAt: iso(w.deliveredAt), attemptLog: w.attemptLog.map((a) => ({ ...a, at: iso(a.at) })),
    })),
    postings: postings.map((p) => ({
      operationId: p.operationId, phase: p.phase, debit: p.debit, credit: p.credit, amount: decimal(p.amount, p.currency), currency: p.currency,
      pspAccountId: p.pspAccountId, createdAt: iso(p.createdAt),
    })),
  };
}

/**
 * The operator's payment search (register with prefix `/admin/api`): the dashboard's list as JSON,
 * same filters and cursor (`GET /payments?q=&merchant=&status=&currency=&account=&channel=&from=&to=&min=&max=&cursor=&limit=`),
 * and one payment's story (`GET /payments/:id`).
 */
export async function registerPaymentAdminRoutes(app: FastifyInstance, deps: PaymentAdminDeps): Promise<void> {
  guardAdminApi(app, deps.token);

  app.get('/payments', { schema: adminSchemas.payments }, async (req, reply) => {
    const parsed = parseFilter(req.query as Record<string, unknown>);
    if (!parsed.ok) return adminError(reply, 400, 'invalid_filter', `${parsed.error.field} ${parsed.error.message}`);
    const page = await deps.search.list(parsed.value);
    return { payments: page.payments.map(summaryJson), ...(page.next ? { next: page.next } : {}) };
  });

  app.get<{ Params: { id: string } }>('/payments/:id', { schema: adminSchemas.payment }, async (req, reply) => {
    const story = await paymentStoryJson(deps, req.params.id);
    if (!story) return adminError(reply, 404, 'not_found', 'no such payment');
    return story;
  });
}
