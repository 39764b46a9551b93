import { paymentStatuses, attemptsOfOperation } from '../payments/model.ts';
import { channels, type AttemptRecord, type OperationRecord, type PaymentRecord } from '../payments/store.ts';
import { filterQuery, type PaymentFilter, type PaymentPage, type PaymentRelated } from '../search/model.ts';
import type { Posting } from '../ledger/model.ts';
import { amountText, timeText } from './format.ts';
import { reviewNoticeOf } from '../processors/result-codes.ts';
import { html, type Html } from './html.ts';
import { badge, csrfField, page, type PageContext } from './layout.ts';

export interface AccountOption { readonly id: string; readonly label: string }
export interface MerchantOption { readonly id: string; readonly name: string }

const option = (value: string, label: string, selected: string | undefined) =>
  html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

/** The payment search's boxes as its form labels them, by their keys in the address. */
const filterLabels: Readonly<Record<string, string>> = {
  q: 'Search', merchant: 'Merchant', status: 'Status', outcome: 'Outcome', currency: 'Currency', account: 'PSP account',
  channel: 'API', from: 'Made from (UTC)', to: 'Made to (UTC, inclusive)', min: 'Amount from', max: 'Amount to',
};

/** The payment list: one search box, filters, newest first, a link to the next page. */
export function paymentListPage(ctx: PageContext, input: {
  query: Record<string, string>; filter: PaymentFilter | undefined; problem: { field: string; message: string } | undefined;
  result: PaymentPage | undefined; merchants: MerchantOption[]; accounts: AccountOption[];
}): string {
  const q = input.query;
  // The box a refused search names is marked and described by the refusal (WCAG 3.3.1).
  const wrong = (name: string): Html => (input.problem?.field === name ? html` aria-invalid="true" aria-describedby="filter-error"` : html``);
  const field = (name: string, label: string, type = 'text', extra: Html = html``) =>
    html`<div><label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" value="${q[name] ?? ''}"${extra}${wrong(name)}></div>`;
  const form = html`<form class="filters" method="get" action="/dashboard/payments" role="search">
<div class="search"><label for="f-q">Search: payment or execution id, order reference, PSP reference, or a card's last 4 digits</label>
<input id="f-q" name="q" type="search" value="${q.q ?? ''}" autocomplete="off"${wrong('q')}></div>
${ctx.user.merchantId === undefined ? html`<div><label for="f-merchant">Merchant</label><select id="f-merchant" name="merchant"${wrong('merchant')}>${option('', 'All merchants', q.merchant)}${input.merchants.map((m) => option(m.id, m.name, q.merchant))}</select></div>` : ''}
<div><label for="f-status">Status</label><select id="f-status" name="status"${wrong('status')}>${option('', 'Any status', q.status)}${paymentStatuses.map((s) => option(s, s, q.status))}</select></div>
<div><label for="f-outcome">Outcome</label><select id="f-outcome" name="outcome"${wrong('outcome')}>${option('', 'Any', q.outcome)}${option('unknown', 'An operation unknown', q.outcome)}${option('pending', 'A follow-up pending at its PSP', q.outcome)}</select></div>
${field('currency', 'Currency', 'text', html` maxlength="3" autocapitalize="characters"`)}
<div><label for="f-account">PSP account</label><select id="f-account" name="account"${wrong('account')}>${option('', 'Any account', q.account)}${input.accounts.map((a) => option(a.id, a.label, q.account))}</select></div>
<div><label for="f-channel">API</label><select id="f-channel" name="channel"${wrong('channel')}>${option('', 'Both', q.channel)}${channels.map((c) => option(c, c === 'opp' ? '/v1' : 'executions', q.channel))}</select></div>
${field('from', 'Made from (UTC)', 'date')}
${field('to', 'Made to (UTC, inclusive)', 'date')}
${field('min', 'Amount from', 'text', html` inputmode="decimal"`)}
${field('max', 'Amount to', 'text', html` inputmode="decimal"`)}
<div><button type="submit">Search</button> <a class="button secondary" href="/dashboard/payments">Clear</a></div>
</form>`;
  // Named as the form labels the box, not by its key in the address.
  const problem = input.problem ? html`<p class="notice error" role="alert" id="filter-error" tabindex="-1" autofocus>${filterLabels[input.problem.field] ?? input.problem.field}: ${input.problem.message}</p>` : '';
  const rows = input.result?.payments ?? [];
  const table = input.result ? html`<div class="scroll"><table class="list" aria-label="Payments">
<thead><tr><th>Made (UTC)</th><th>Payment</th><th>Merchant</th><th>Status</th><th class="num">Amount</th><th>Card</th><th>Order reference</th><th>PSP account</th></tr></thead>
<tbody>
${rows.map((p) => html`<tr>
<td data-label="Made">${timeText(p.createdAt)}</td>
<td data-label="Payment"><a class="mono" href="/dashboard/payments/${p.id}">${p.operationId ?? p.id}</a><br><span class="muted">${p.kind} · ${p.channel === 'opp' ? '/v1' : 'executions'}${p.live ? '' : ' · test'}</span></td>
<td data-label="Merchant">${p.merchantName}</td>
<td data-label="Status">${badge(p.status)}</td>
<td data-label="Amount" class="num">${amountText(p.amount, p.currency)}</td>
<td data-label="Card">${p.card ? `${p.card.brand} •••• ${p.card.last4}` : p.method === 'bank_transfer' ? 'bank transfer' : ''}</td>
<td data-label="Order reference" class="mono">${p.reference ?? ''}</td>
<td data-label="PSP account">${p.pspAccountName ?? (p.pspAccountId ? p.pspAccountId : html`<span class="muted">default</span>`)}</td>
</tr>`)}
</tbody></table></div>
${rows.length === 0 ? html`<p>No payment matches.</p>` : ''}
<div class="pager">${input.result.next && input.filter ? html`<a class="button secondary" rel="next" href="/dashboard/payments?${filterQuery({ ...input.filter, after: undefined }, { cursor: input.result.next }).toString()}">Older payments</a>` : ''}
${input.filter?.after ? html`<a class="button secondary" href="/dashboard/payments?${filterQuery({ ...input.filter, after: undefined }).toString()}">Newest</a>` : ''}</div>` : '';
  return page(ctx, 'Payments', html`${form}${problem}${table}`);
}

export interface ActionOffer {
  readonly kind: 'capture' | 'refund' | 'void';
  /** The most the action may move (the whole open amount for a void). */
  readonly max: number;
}

export interface PaymentStory {
  readonly payment: PaymentRecord;
  readonly merchantName: string;
  readonly operations: readonly OperationRecord[];
  readonly attempts: readonly AttemptRecord[];
  readonly related: PaymentRelated;
  readonly postings: readonly Posting[];
  readonly card: { brand: string; last4: string; holder?: string | undefined } | undefined;
  readonly accountNames: ReadonlyMap<string, string>;
  /** `chargedBack`: what chargebacks took and their reversals have not given back. */
  readonly totals: { authorized: number; captured: number; refunded: number; chargedBack: number };
}

interface TimelineEntry { readonly at: number; readonly order: number; readonly body: Html }

/** The payment's whole story: operations with their attempts, 3-D Secure, webhooks and the books, in time order. */
function timeline(s: PaymentStory): Html {
  const entries: TimelineEntry[] = [];
  const cur = s.payment.currency;
  for (const o of s.operations) {
    const attempts = attemptsOfOperation(s.attempts, o.id);
    entries.push({ at: o.createdAt, order: o.seq * 10, body: html`<span class="kind">${o.kind}</span> ${amountText(o.amount.amount, cur)} ${badge(o.status)}
<span class="muted">${timeText(o.createdAt)} · operation <span class="mono">${o.id}</span></span>
${o.reason || o.resultCode || o.pspReference ? html`<br>${o.reason ? html`reason ${o.reason} · ` : ''}${o.resultCode ? html`result ${o.resultCode}${reviewNoticeOf(o.resultCode) ? ' (review manually)' : ''} · ` : ''}${o.pspReference ? html`PSP reference <span class="mono">${o.pspReference}</span>` : ''}` : ''}
${o.unknownSince ? html`<br>${badge('unknown')} answer lost since ${timeText(o.unknownSince)}: the reconciler asks the PSP` : ''}
${attempts.length ? html`<ul>${attempts.map((a) => html`<li>attempt ${a.seq + 1} at <strong>${a.accountName}</strong> (${a.connector})${a.authenticated ? ' with 3-D Secure' : ''}: ${badge(a.status)}${a.reason ? ` ${a.reason}` : ''}${a.resultCode ? html` <span class="mono">${a.resultCode}</span>` : ''}${a.status === 'pending' ? '' : html` · ${a.updatedAt - a.createdAt} ms`}${a.pspReference ? html` · PSP reference <span class="mono">${a.pspReference}</span>` : ''}</li>`)}</ul>` : ''}` });
  }
  for (const c of s.related.challenges) {
    entries.push({ at: c.createdAt, order: 1, body: html`<span class="kind">${c.purpose === '3ds' ? '3-D Secure session' : 'bank confirmation'}</span> ${badge(c.status)}
<span class="muted">${timeText(c.createdAt)} · session <span class="mono">${c.id}</span></span>
<br>${c.resolvedAt ? `finished ${timeText(c.resolvedAt)}` : `open until ${timeText(c.expiresAt)}`}` });
  }
  for (const w of s.related.webhooks) {
    entries.push({ at: w.createdAt, order: 5, body: html`<span class="kind">webhook</span> ${w.eventType} ${badge(w.status)}
<span class="muted">${timeText(w.createdAt)} · to ${w.url}</span>
<ul>${w.attemptLog.length === 0 ? html`<li>not sent yet</li>` : w.attemptLog.map((a) => html`<li>${timeText(a.at)}: ${a.httpStatus ? `HTTP ${a.httpStatus}` : a.error ?? 'no answer'} · ${a.latencyMs} ms</li>`)}</ul>` });
  }
  if (s.postings.length > 0) {
    const byOp = new Map<string, Posting[]>();
    for (const p of s.postings) byOp.set(`${p.operationId}:${p.phase}`, [...(byOp.get(`${p.operationId}:${p.phase}`) ?? []), p]);
    for (const list of byOp.values()) {
      const first = list[0]!;
      entries.push({ at: first.createdAt, order: 7, body: html`<span class="kind">ledger</span> ${first.phase} <span class="muted">${timeText(first.createdAt)}</span>
<ul>${list.map((p) => html`<li>debit ${p.debit}, credit ${p.credit}: ${amountText(p.amount, p.currency)}</li>`)}</ul>` });
    }
  }
  entries.sort((a, b) => a.at - b.at || a.order - b.order);
  return html`<ol class="timeline">${entries.map((e) => html`<li>${e.body}</li>`)}</ol>`;
}

const actionLabel = { capture: 'Capture', refund: 'Refund', void: 'Void' } as const;

/** An action's amount the dashboard refused: shown at its own box, with what was typed. */
export interface RefusedAmount { readonly kind: 'capture' | 'refund' | 'void'; readonly typed: string; readonly message: string }

export function paymentPage(ctx: PageContext, s: PaymentStory, offers: readonly ActionOffer[], message: Html | undefined, refused?: RefusedAmount): string {
  const p = s.payment;
  const opening = s.operations.find((o) => o.seq === 0);
  const cur = p.currency;
  const major = (n: number) => amountText(n, cur).split(' ')[0]!;
  // An approval the acquirer flagged for manual review: the operator reads it before anything else.
  const review = opening?.status === 'succeeded' ? reviewNoticeOf(opening.resultCode) : undefined;
  // A refused amount marks its own box and is described there, keeping what was typed (WCAG 3.3.1).
  const amountBox = (kind: 'capture' | 'refund', max: number) => {
    const wrong = refused?.kind === kind ? refused : undefined;
    return html`<div><label for="amount-${kind}">${actionLabel[kind]} amount (${cur}, at most ${major(max)})</label><input id="amount-${kind}" name="amount" inputmode="decimal" value="${wrong ? wrong.typed : major(max)}" required${wrong ? html` aria-invalid="true" aria-describedby="amount-${kind}-error"` : ''}>${wrong ? html`<p id="amount-${kind}-error" class="field-error">${wrong.message}</p>` : ''}</div>`;
  };
  const actions = offers.length === 0 ? '' : html`<h2>Actions</h2><div class="actions">${offers.map((a) => html`<form method="post" action="/dashboard/payments/${p.id}/${a.kind}">
${csrfField(ctx)}
${a.kind === 'void' ? html`<p>Release the open ${amountText(a.max, cur)}</p>` : amountBox(a.kind, a.max)}
<button type="submit"${a.kind === 'void' ? html` class="danger"` : ''}>${actionLabel[a.kind]}…</button>
</form>`)}</div>`;
  return page(ctx, `Payment ${opening?.id ?? p.id}`, html`${message ?? ''}
<dl class="facts">
<dt>Status</dt><dd>${badge(p.status)}${review ? html`<p class="notice error" role="status">Hold the order: ${review}</p>` : ''}</dd>
<dt>Amount</dt><dd>${amountText(p.amount, cur)} (${p.initialKind})</dd>
<dt>Captured / refunded</dt><dd>${amountText(s.totals.captured, cur)} / ${amountText(s.totals.refunded, cur)}</dd>
${s.totals.chargedBack > 0 ? html`<dt>Charged back</dt><dd>${amountText(s.totals.chargedBack, cur)}</dd>` : ''}
<dt>Merchant</dt><dd>${s.merchantName} <span class="mono muted">${p.merchantId}</span></dd>
<dt>API</dt><dd>${p.channel === 'opp' ? '/v1 payments' : 'executions'}${s.related.executionId ? html` · execution <span class="mono">${s.related.executionId}</span>` : ''}${p.live ? ' · live' : ' · test'}</dd>
<dt>Payment id</dt><dd class="mono">${p.id}</dd>
<dt>Order reference</dt><dd class="mono">${opening?.merchantTransactionId ?? '—'}</dd>
<dt>Instrument</dt><dd>${s.card ? `${s.card.brand} •••• ${s.card.last4}${s.card.holder ? ` · ${s.card.holder}` : ''}` : p.method === 'bank_transfer' ? 'bank transfer' : '—'}</dd>
<dt>PSP account</dt><dd>${p.pspAccountId ? s.accountNames.get(p.pspAccountId) ?? p.pspAccountId : 'gateway default acquirer'}</dd>
<dt>Made</dt><dd>${timeText(p.createdAt)}; last change ${timeText(p.updatedAt)}</dd>
</dl>
${actions}
<h2>Timeline</h2>
${timeline(s)}`);
}

/** The confirmation step every action passes: what will happen, and one button to do it. */
export function confirmPage(ctx: PageContext, p: PaymentRecord, kind: ActionOffer['kind'], amount: number | undefined, amountField: string, actionKey: string): string {
  return page(ctx, `${actionLabel[kind]} payment?`, html`<p>${kind === 'void'
    ? `Void the open authorization of payment ${p.id}? The held amount is released to the cardholder.`
    : `${actionLabel[kind]} ${amountText(amount ?? 0, p.currency)} of payment ${p.id}?`}</p>
<form method="post" action="/dashboard/payments/${p.id}/${kind}">
${csrfField(ctx)}
<input type="hidden" name="amount" value="${amountField}">
<input type="hidden" name="confirmed" value="yes">
<input type="hidden" name="actionKey" value="${actionKey}">
<div class="actions"><button type="submit"${kind === 'void' ? html` class="danger"` : ''}>Yes, ${kind} ${kind === 'void' ? '' : amountText(amount ?? 0, p.currency)}</button>
<a class="button secondary" href="/dashboard/payments/${p.id}">Cancel</a></div>
</form>`);
}
