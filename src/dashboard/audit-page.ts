import { timeText } from './format.ts';
import { html } from './html.ts';
import { badge, page, type PageContext } from './layout.ts';
import type { AuditEntry } from './model.ts';

/** Who did what, when and from where, newest first. */
export function auditPage(ctx: PageContext, entries: readonly AuditEntry[]): string {
  const last = entries.at(-1);
  return page(ctx, 'Audit log', html`<div class="scroll"><table class="list" aria-label="Audit log">
<thead><tr><th>When (UTC)</th><th>Who</th><th>Action</th><th>Subject</th><th>Outcome</th><th>Details</th><th>From</th></tr></thead>
<tbody>${entries.map((e) => html`<tr>
<td data-label="When">${timeText(e.at)}</td>
<td data-label="Who">${e.email || '—'}</td>
<td data-label="Action" class="mono">${e.action}</td>
<td data-label="Subject" class="mono">${e.subject ?? ''}</td>
<td data-label="Outcome">${badge(e.outcome)}</td>
<td data-label="Details" class="mono">${Object.keys(e.detail).length ? Object.entries(e.detail).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ') : ''}</td>
<td data-label="From" class="mono">${e.ip}</td>
</tr>`)}</tbody></table></div>
${entries.length === 0 ? html`<p>Nothing recorded yet.</p>` : ''}
${entries.length === 100 && last ? html`<div class="pager"><a class="button secondary" href="/dashboard/audit?before=${last.at}.${last.id}">Older entries</a></div>` : ''}`);
}
