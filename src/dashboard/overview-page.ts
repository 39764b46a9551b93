import type { Overview } from '../search/model.ts';
import { amountText, timeText } from './format.ts';
import { html, type Html } from './html.ts';
import { page, type PageContext } from './layout.ts';
import type { DashboardDeps } from './deps.ts';

const approvedStatuses = new Set(['authorized', 'captured', 'refunded', 'reversed', 'charged_back', 'credited']);
const dayMs = 86_400_000;

/** Horizontal stacked bars, one per PSP account: approved, declined, still open. Drawn on the server; no script. */
function attemptsChart(rows: { account: string; ok: number; declined: number; open: number }[]): Html {
  if (rows.length === 0) return html`<p>No authorization attempt today.</p>`;
  const width = 640, label = 150, bar = 22, gap = 12, top = 24;
  const max = Math.max(...rows.map((r) => r.ok + r.declined + r.open), 1);
  const scale = (n: number) => (n / max) * (width - label - 60);
  const height = top + rows.length * (bar + gap);
  return html`<figure>
<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">Authorization attempts today per PSP account</title>
<desc id="chart-desc">${rows.map((r) => `${r.account}: ${r.ok} approved, ${r.declined} declined, ${r.open} open`).join('; ')}</desc>
<g><rect x="${label}" y="2" width="12" height="12" fill="#1a7f37"></rect><text x="${label + 16}" y="12">approved</text>
<rect x="${label + 90}" y="2" width="12" height="12" fill="#cf222e"></rect><text x="${label + 106}" y="12">declined</text>
<rect x="${label + 180}" y="2" width="12" height="12" fill="#bf8700"></rect><text x="${label + 196}" y="12">open / unknown</text></g>
${rows.map((r, i) => {
    const y = top + i * (bar + gap);
    const w1 = scale(r.ok), w2 = scale(r.declined), w3 = scale(r.open);
    return html`<g><text x="0" y="${y + 15}">${r.account.length > 20 ? `${r.account.slice(0, 19)}…` : r.account}</text>
<rect x="${label}" y="${y}" width="${w1.toFixed(1)}" height="${bar}" fill="#1a7f37"></rect>
<rect x="${(label + w1).toFixed(1)}" y="${y}" width="${w2.toFixed(1)}" height="${bar}" fill="#cf222e"></rect>
<rect x="${(label + w1 + w2).toFixed(1)}" y="${y}" width="${w3.toFixed(1)}" height="${bar}" fill="#bf8700"></rect>
<text x="${(label + w1 + w2 + w3 + 6).toFixed(1)}" y="${y + 15}">${r.ok + r.declined + r.open}</text></g>`;
  })}
</svg>
</figure>`;
}

export function renderOverview(ctx: PageContext, o: Overview, since: number, now: number): string {
  const count = o.volume.reduce((n, v) => n + v.count, 0);
  const approved = new Map<string, number>();
  for (const v of o.volume) if (approvedStatuses.has(v.status)) approved.set(v.currency, (approved.get(v.currency) ?? 0) + v.amount);
  const accounts = new Map<string, { account: string; ok: number; declined: number; open: number; reasons: Map<string, number> }>();
  for (const a of o.attempts) {
    const row = accounts.get(a.account) ?? { account: a.account, ok: 0, declined: 0, open: 0, reasons: new Map<string, number>() };
    if (a.status === 'succeeded') row.ok += a.count;
    else if (a.status === 'failed') {
      row.declined += a.count;
      const reason = a.reason ?? 'unspecified';
      row.reasons.set(reason, (row.reasons.get(reason) ?? 0) + a.count);
    } else row.open += a.count;
    accounts.set(a.account, row);
  }
  const rows = [...accounts.values()].sort((a, b) => a.account.localeCompare(b.account));
  const settled = rows.reduce((n, r) => n + r.ok + r.declined, 0);
  const rate = (ok: number, declined: number) => ok + declined === 0 ? '—' : `${((100 * ok) / (ok + declined)).toFixed(1)} %`;
  const card = (title: string, figure: string | Html, note: string | Html = '') => html`<div class="card"><div class="muted">${title}</div><div class="figure">${figure}</div><div class="muted">${note}</div></div>`;
  return page(ctx, 'Overview', html`<p class="muted">Today since ${timeText(since)}${ctx.user.merchantId ? ', your merchant only' : ', all merchants'}.</p>
<div class="cards">
${card('Payments today', String(count), html`<a href="/dashboard/payments?from=${new Date(since).toISOString().slice(0, 10)}">today's payments</a>`)}
${card('Approved volume', approved.size === 0 ? '—' : html`${[...approved].map(([c, n]) => html`<div>${amountText(n, c)}</div>`)}`)}
${card('Approval rate', rate(rows.reduce((n, r) => n + r.ok, 0), rows.reduce((n, r) => n + r.declined, 0)), `${settled} settled attempts`)}
${card('Unknown outcomes', String(o.unknownWaiting), html`waiting for the reconciler · <a href="/dashboard/payments?outcome=unknown">payments with unknown outcomes</a>`)}
${card('Pending at a PSP', String(o.pendingAtPsp), html`captures, refunds and voids a PSP accepted and has not finished · <a href="/dashboard/payments?outcome=pending">payments with one</a>`)}
${card('Webhook backlog', String(o.webhookBacklog.pending), o.webhookBacklog.oldest ? `oldest ${Math.round((now - o.webhookBacklog.oldest) / 1000)} s old` : 'nothing waiting')}
</div>
<h2>Attempts per PSP account</h2>
${attemptsChart(rows)}
<h2>Approval and declines by reason</h2>
<div class="scroll"><table class="list" aria-label="PSP accounts today"><thead><tr><th>PSP account</th><th class="num">Approved</th><th class="num">Declined</th><th class="num">Open</th><th class="num">Approval rate</th><th>Declines by reason</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td data-label="Account">${r.account}</td><td data-label="Approved" class="num">${r.ok}</td><td data-label="Declined" class="num">${r.declined}</td><td data-label="Open" class="num">${r.open}</td>
<td data-label="Approval rate" class="num">${rate(r.ok, r.declined)}</td><td data-label="Declines">${[...r.reasons].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}</td></tr>`)}</tbody></table></div>`);
}

export async function overviewPage(ctx: PageContext, deps: DashboardDeps): Promise<string> {
  const now = deps.clock.now();
  const since = now - (now % dayMs);
  return renderOverview(ctx, await deps.search.overview(since, ctx.user.merchantId), since, now);
}
