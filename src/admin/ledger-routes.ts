import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { LedgerService } from '../ledger/service.ts';
import { maxDiscrepancyPage, type SettlementError, type SettlementService } from '../ledger/settlement.ts';
import { isExportFormat, parseInstant } from '../ledger/export.ts';
import { parseSettlementReport } from '../processors/settlement-report.ts';
import { adminError, guardAdminApi } from './api-guard.ts';
import { scrubPans } from '../runtime/scrub.ts';
import { adminSchemas } from './schemas.ts';
import { decodeCursor, encodeCursor } from '../search/model.ts';


export interface LedgerAdminDeps {
  ledger: LedgerService;
  settlement: SettlementService;
  /** Whether the merchant exists: a misspelt id is told apart from a merchant without money. */
  merchantExists: (merchantId: string) => Promise<boolean>;
  /** The operator token every request must bear. */
  token: string;
}

/** The longest export window one request may ask for: a quarter keeps an answer's size in reach. */
const maxExportMs = 92 * 86_400_000;

const statusOf: Record<SettlementError['code'], number> = {
  psp_account_unknown: 404, psp_account_ambiguous: 409, report_account_mismatch: 422, not_simulated: 422, discrepancy_not_open: 404, note_holds_card_number: 400, note_required: 400,
};

/**
 * The operator's ledger API (register with prefix `/admin/api`): balances per account and
 * currency, a payment's postings, exports of postings by time, settlement reconciliation and its
 * discrepancies. Every route needs `Authorization: Bearer <operator token>`; errors are
 * `{error: {code, message}}`.
 */
export async function registerLedgerAdminRoutes(app: FastifyInstance, deps: LedgerAdminDeps): Promise<void> {
  const { ledger, settlement } = deps;
  const error = adminError;

  guardAdminApi(app, deps.token);

  // A query parameter given empty (`merchantId=&limit=`, a form's untouched field, a template filled
  // in part) is one not given, as the payment search takes it.
  const givenOf = (query: unknown): Record<string, unknown> =>
    Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([, v]) => v !== ''));

  app.get('/ledger/balances', { schema: adminSchemas.balances }, async (req, reply) => {
    const merchantId = (req.query as Record<string, unknown>).merchantId;
    if (typeof merchantId !== 'string' || merchantId === '') return error(reply, 400, 'merchant_required', 'merchantId is required');
    if (!(await deps.merchantExists(merchantId))) return error(reply, 404, 'merchant_not_found', `no merchant ${merchantId}`);
    return { merchantId, balances: (await ledger.balances(merchantId)).map(({ merchantId: _, ...b }) => b) };
  });

  app.get('/ledger/payments/:paymentId', { schema: adminSchemas.postings }, async (req) => {
    const { paymentId } = req.params as { paymentId: string };
    // A payment without postings (declined, pending, unknown id) has an empty history, not an error:
    // the ledger does not know which payments exist.
    // The id as asked, save a card number typed there (no payment's id holds one: it is no payment's).
    return { paymentId: /^[0-9a-f]{32}$/.test(paymentId) ? paymentId : scrubPans(paymentId), postings: await ledger.paymentPostings(paymentId) };
  });

  // GET /ledger/postings?from=2026-12-01&to=2026-12-02[&merchantId=…][&format=csv|json]: postings made in [from, to).
  app.get('/ledger/postings', { schema: adminSchemas.export }, async (req, reply) => {
    const q = givenOf(req.query);
    const from = parseInstant(q.from), to = parseInstant(q.to);
    if (from === undefined) return error(reply, 400, 'from_invalid', 'from must be an ISO date (2026-12-06 or 20261206) or date-time, or epoch milliseconds (10 digits or more)');
    if (to === undefined) return error(reply, 400, 'to_invalid', 'to must be an ISO date (2026-12-06 or 20261206) or date-time, or epoch milliseconds (10 digits or more)');
    if (to <= from || to - from > maxExportMs) return error(reply, 400, 'window_invalid', 'to must be after from, at most 92 days later');
    const format = q.format ?? 'json';
    if (!isExportFormat(format)) return error(reply, 400, 'format_invalid', 'format must be csv or json');
    if (q.merchantId !== undefined && typeof q.merchantId !== 'string') return error(reply, 400, 'merchant_invalid', 'merchantId must be an id');
    if (typeof q.merchantId === 'string' && !(await deps.merchantExists(q.merchantId))) return error(reply, 404, 'merchant_not_found', `no merchant ${q.merchantId}`);
    const body = Readable.from(settlement.exportPostings({ from, to, merchantId: q.merchantId as string | undefined }, format));
    return reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8').send(body);
  });

  // POST /ledger/reconciliations {pspAccount, merchantId?, report}: imports a settlement report.
  app.post('/ledger/reconciliations', { bodyLimit: 64 * 1024 * 1024, schema: adminSchemas.reconcile }, async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.pspAccount !== 'string' || b.pspAccount === '') return error(reply, 400, 'psp_account_required', 'pspAccount is required');
    if (b.merchantId !== undefined && (typeof b.merchantId !== 'string' || b.merchantId === '')) return error(reply, 400, 'merchant_invalid', 'merchantId must be an id');
    const report = parseSettlementReport(b.report);
    if (!report.ok) return error(reply, 400, 'report_invalid', report.error);
    const account = await settlement.account(b.pspAccount, b.merchantId as string | undefined);
    if (!account.ok) return error(reply, statusOf[account.error.code], account.error.code, account.error.message);
    const r = await settlement.reconcile(account.value, report.value);
    if (!r.ok) return error(reply, statusOf[r.error.code], r.error.code, r.error.message);
    return reply.code(r.value.imported ? 201 : 200).send(r.value);
  });

  app.get('/ledger/discrepancies', { schema: adminSchemas.discrepancies }, async (req, reply) => {
    const q = givenOf(req.query);
    if (q.status !== undefined && q.status !== 'open' && q.status !== 'resolved') return error(reply, 400, 'status_invalid', 'status must be open or resolved');
    if (typeof q.merchantId === 'string' && !(await deps.merchantExists(q.merchantId))) return error(reply, 404, 'merchant_not_found', `no merchant ${q.merchantId}`);
    // Pages, so that a report that opened more than one answer can hold is listed to its end.
    const limit = q.limit === undefined ? maxDiscrepancyPage : typeof q.limit === 'string' && /^[0-9]{1,4}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(limit >= 1 && limit <= maxDiscrepancyPage)) return error(reply, 400, 'limit_invalid', `limit must be an integer from 1 to ${maxDiscrepancyPage}`);
    const after = q.cursor === undefined ? undefined : typeof q.cursor === 'string' ? decodeCursor(q.cursor) ?? null : null;
    if (after === null) return error(reply, 400, 'cursor_invalid', 'cursor must be the next of a previous page');
    const filter = {
      ...(q.status ? { status: q.status as 'open' | 'resolved' } : {}),
      ...(typeof q.merchantId === 'string' ? { merchantId: q.merchantId } : {}),
      ...(typeof q.reportId === 'string' ? { reportId: q.reportId } : {}),
      ...(after ? { after } : {}),
      limit: limit + 1,
    };
    const found = await settlement.discrepancies(filter);
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return { discrepancies: page, ...(found.length > limit && last ? { next: encodeCursor({ createdAt: last.createdAt, id: last.id }) } : {}) };
  });

  // POST /ledger/discrepancies/:id/resolve {note}: closes an open discrepancy with the operator's explanation.
  app.post('/ledger/discrepancies/:id/resolve', { schema: adminSchemas.resolve }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const note = ((req.body ?? {}) as Record<string, unknown>).note;
    if (typeof note !== 'string') return error(reply, 400, 'note_required', 'note says how it was resolved');
    const r = await settlement.resolve(id, note.trim());
    if (!r.ok) return error(reply, statusOf[r.error.code], r.error.code, r.error.message);
    return r.value;
  });
}
