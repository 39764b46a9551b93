import type { DiscrepancyRecord } from '../ledger/store.ts';
import { amountText, timeText } from './format.ts';
import { html, type Html } from './html.ts';
import { badge, csrfField, page, type PageContext } from './layout.ts';
import { canAct } from './model.ts';

/** What each kind of discrepancy means, in a line an operator can act on. */
const meaning: Readonly<Record<string, string>> = {
  missing_line: 'The ledger moved money the report does not settle.',
  amount_mismatch: 'The report\'s line disagrees with the ledger (gross, currency, or net against gross less fee).',
  unknown_reference: 'The report names a movement the gateway has no record of.',
  late_chargeback: 'The acquirer charged back a capture the gateway has no chargeback for.',
  late_approval: 'A charge the PSP approved after the gateway had ended it as failed.',
  duplicate_line: 'The movement was settled already.',
  payout_mismatch: 'The payout is not the sum of the lines\' nets.',
};

const side = (minor: number | undefined, currency: string): string => (minor === undefined ? '—' : amountText(minor, currency));

export interface ReconciliationView {
  readonly status: 'open' | 'resolved';
  readonly discrepancies: readonly DiscrepancyRecord[];
  /** The cursor of the next page, when there is one. */
  readonly next: string | undefined;
  /** What the last form did (an action notice), and the note typed when it was refused. */
  readonly notice?: Html;
  readonly refusedNote?: { readonly id: string; readonly text: string; readonly message: string };
}

/**
 * The discrepancies settlement reports left, oldest first, a page at a time: what each side said
 * and, for those who may act, a note to resolve one with (the admin API's and the CLI's resolve).
 */
export function reconciliationPage(ctx: PageContext, v: ReconciliationView): string {
  const mayResolve = v.status === 'open' && canAct(ctx.user);
  const last = v.discrepancies.at(-1);
  const tab = (status: 'open' | 'resolved', label: string) => html`<a href="/dashboard/reconciliation?status=${status}"${status === v.status ? html` aria-current="page"` : ''}>${label}</a>`;
  return page(ctx, 'Reconciliation', html`${v.notice ?? ''}<p class="muted">Discrepancies between settlement reports and the ledger${ctx.user.merchantId ? ', your merchant only' : ''}: ${tab('open', 'open')} · ${tab('resolved', 'resolved')}.</p>
<div class="scroll"><table class="list" aria-label="${v.status === 'open' ? 'Open' : 'Resolved'} discrepancies">
<thead><tr><th>Found (UTC)</th><th>Kind</th><th>Reference</th><th>Ledger</th><th>Report</th><th>${v.status === 'open' ? 'Resolve' : 'Resolution'}</th></tr></thead>
<tbody>${v.discrepancies.map((d) => {
    const reference = d.paymentId ? html`<a id="d-${d.id}-ref" class="mono" href="/dashboard/payments/${d.paymentId}">${d.reference}</a>` : html`<span id="d-${d.id}-ref" class="mono">${d.reference}</span>`;
    // Each row's box and button say which discrepancy they resolve (its kind and reference): fifty
    // boxes all named "How it was resolved" left a screen reader's user to guess.
    const which = `d-${d.id}-kind d-${d.id}-ref`;
    const net = d.reportedNet !== undefined ? html`<div class="muted">fee ${side(d.reportedFee, d.currency)}, net ${side(d.reportedNet, d.currency)}</div>` : '';
    const refused = v.refusedNote?.id === d.id ? v.refusedNote : undefined;
    const last = v.status === 'resolved'
      ? html`<td data-label="Resolution" class="note">${d.note ?? ''}${d.resolvedAt !== undefined ? html`<div class="muted">${timeText(d.resolvedAt)}</div>` : ''}</td>`
      : mayResolve
        ? html`<td data-label="Resolve"><form method="post" action="/dashboard/reconciliation/${d.id}/resolve">${csrfField(ctx)}
<label for="note-${d.id}">How it was resolved</label><input id="note-${d.id}" name="note" required maxlength="2000" value="${refused?.text ?? ''}" aria-describedby="${refused ? `note-${d.id}-error ` : ''}${which}"${refused ? html` aria-invalid="true"` : ''}>
${refused ? html`<p id="note-${d.id}-error" class="field-error">${refused.message}</p>` : ''}<button type="submit" aria-describedby="${which}">Resolve</button></form></td>`
        : html`<td data-label="Resolve">${badge('open')}</td>`;
    return html`<tr id="d-${d.id}">
<td data-label="Found">${timeText(d.createdAt)}</td>
<td data-label="Kind"><span id="d-${d.id}-kind" class="mono">${d.kind}</span><div class="muted">${meaning[d.kind] ?? ''}</div></td>
<td data-label="Reference">${reference}</td>
<td data-label="Ledger">${side(d.expected, d.expectedCurrency ?? d.currency)}</td>
<td data-label="Report">${side(d.reported, d.currency)}${net}</td>
${last}
</tr>`;
  })}</tbody></table></div>
${v.discrepancies.length === 0 ? html`<p>${v.status === 'open' ? 'No open discrepancy: every report imported agrees with the ledger, or its differences were resolved.' : 'None resolved yet.'}</p>` : ''}
${v.next && last ? html`<div class="pager"><a class="button secondary" rel="next" href="/dashboard/reconciliation?status=${v.status}&amp;cursor=${v.next}">Later discrepancies</a></div>` : ''}`);
}
