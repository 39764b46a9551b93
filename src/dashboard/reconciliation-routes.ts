import type { FastifyInstance } from 'fastify';
import { decodeCursor, encodeCursor } from '../search/model.ts';
import { html } from './html.ts';
import { actionNotice, page } from './layout.ts';
import { canAct, mayView } from './model.ts';
import { formOf } from './security.ts';
import { dashboardSchemas } from './schemas.ts';
import { contextOf, sendPage } from './reply.ts';
import { reconciliationPage } from './reconciliation-page.ts';
import type { DashboardDeps } from './deps.ts';
import type { DiscrepancyRecord } from '../ledger/store.ts';

/** Discrepancies on one page of the list. */
const perPage = 50;

/**
 * Settlement reconciliation for operators: the discrepancies reports left, and their resolution
 * with a note (an operator or an admin; a viewer reads). A user limited to one merchant sees that
 * merchant's only, and another's is not found.
 */
export function registerReconciliationRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const { auth, settlement } = deps;

  async function list(status: 'open' | 'resolved', merchantId: string | undefined, cursor: string | undefined) {
    const after = cursor ? decodeCursor(cursor) : undefined;
    const found = await settlement.discrepancies({ status, ...(merchantId ? { merchantId } : {}), ...(after ? { after } : {}), limit: perPage + 1 });
    const shown = found.slice(0, perPage);
    const last = shown.at(-1);
    return { discrepancies: shown, next: found.length > perPage && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined };
  }

  /** The open discrepancies from `d` on: the page that holds it, however far down the list it is. */
  async function pageFrom(d: DiscrepancyRecord, merchantId: string | undefined) {
    const later = await settlement.discrepancies({ status: 'open', ...(merchantId ? { merchantId } : {}), after: { createdAt: d.createdAt, id: d.id }, limit: perPage });
    const shown = [d, ...later].slice(0, perPage);
    const last = shown.at(-1)!;
    return { discrepancies: shown, next: later.length >= perPage ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined };
  }

  app.get<{ Querystring: { status?: string; cursor?: string; done?: string } }>('/reconciliation', { schema: dashboardSchemas.reconciliation }, async (req, reply) => {
    const ctx = contextOf(req, 'reconciliation');
    const status = req.query.status === 'resolved' ? 'resolved' : 'open';
    const page = await list(status, ctx.user.merchantId, typeof req.query.cursor === 'string' ? req.query.cursor : undefined);
    const done = typeof req.query.done === 'string' && /^[0-9a-f]{32}$/.test(req.query.done) ? req.query.done : undefined;
    return sendPage(reply, reconciliationPage(ctx, { status, ...page, ...(done ? { notice: actionNotice('ok', `Discrepancy ${done} resolved.`) } : {}) }));
  });

  app.post<{ Params: { id: string } }>('/reconciliation/:id/resolve', { schema: dashboardSchemas.resolveDiscrepancy }, async (req, reply) => {
    const ctx = contextOf(req, 'reconciliation');
    const u = ctx.user;
    const id = req.params.id;
    const [d] = /^[0-9a-f]{32}$/.test(id) ? await settlement.discrepancies({ id }) : [];
    const visible = d !== undefined && (d.merchantId === undefined ? u.merchantId === undefined : mayView(u, d.merchantId));
    const audit = (outcome: 'ok' | 'refused', detail: Record<string, unknown>) =>
      auth.audit({ user: u, ip: req.ip }, { action: 'discrepancy.resolve', subject: id.slice(0, 64), outcome, merchantId: visible ? d.merchantId : undefined, detail });
    if (!visible) {
      await audit('refused', { reason: 'not_found' });
      return sendPage(reply, page(ctx, 'Not found', html`<p>There is no such discrepancy. <a href="/dashboard/reconciliation">Back to reconciliation</a></p>`), 404);
    }
    if (!canAct(u)) {
      await audit('refused', { reason: 'role', role: u.role });
      return sendPage(reply, page(ctx, 'Not allowed', html`<p>Your role (${u.role}) cannot resolve discrepancies. <a href="/dashboard/reconciliation">Back to reconciliation</a></p>`), 403);
    }
    const note = String(formOf(req).note ?? '').trim();
    const r = await settlement.resolve(id, note);
    if (!r.ok) {
      await audit('refused', { reason: r.error.code });
      // Told at its box too, on the page of the list that holds it (from its own place on: one on a
      // later page would not be on the first), the note kept to correct it with any card number
      // masked out, whatever the refusal's reason (one too long holds it as surely).
      const why = r.error.code === 'discrepancy_not_open' ? 'This discrepancy is resolved already.'
        : r.error.code === 'note_holds_card_number' ? 'The note holds what looks like a card number: describe the card by its last four digits.'
          : 'Say in the note how it was resolved (at most 2,000 characters, on one line).';
      const shown = d.status === 'open' ? await pageFrom(d, u.merchantId) : await list('open', u.merchantId, undefined);
      const refusedNote = { id, text: deps.maskCardNumbers(note).slice(0, 2000), message: why };
      return sendPage(reply, reconciliationPage(ctx, { status: 'open', ...shown, notice: actionNotice('error', why), refusedNote }), r.error.code === 'discrepancy_not_open' ? 409 : 400);
    }
    await audit('ok', { kind: r.value.kind });
    // Post/redirect/get: reloading the answer resolves nothing more.
    return reply.redirect(`/dashboard/reconciliation?done=${id}`, 303);
  });
}
