import { randomUUID } from 'node:crypto';
import type { Entity, Merchant } from '../merchants/model.ts';
import type { MerchantCredentials, RotatedCredentials } from '../merchants/service.ts';
import type { CredentialDialect } from '../merchants/model.ts';
import type { DeliveryView, EndpointView } from '../webhooks/service.ts';
import type { WorkflowConfig } from '../workflows/model.ts';
import type { PspAccount } from '../workflows/store.ts';
import { accountView, declineCategories } from '../workflows/model.ts';
import { timeText } from './format.ts';
import { html, type Html } from './html.ts';
import { badge, csrfField, notice, page, type PageContext } from './layout.ts';

const when = (iso: string | undefined) => iso ? timeText(Date.parse(iso)) : '';

export function merchantsPage(ctx: PageContext, list: { merchant: Merchant; entities: Entity[] }[], canCreate: boolean, message: Html | undefined): string {
  return page(ctx, 'Merchants', html`${message ?? ''}
<div class="scroll"><table class="list" aria-label="Merchants">
<thead><tr><th>Name</th><th>Mode</th><th>Merchant id</th><th>Entities</th><th>Created (UTC)</th></tr></thead>
<tbody>${list.map(({ merchant: m, entities }) => html`<tr>
<td data-label="Name"><a href="/dashboard/merchants/${m.id}">${m.name}</a></td>
<td data-label="Mode">${badge(m.live ? 'live' : 'test')}</td>
<td data-label="Merchant id" class="mono">${m.id}</td>
<td data-label="Entities" class="mono">${entities.map((e) => e.id).join(', ')}</td>
<td data-label="Created">${timeText(m.createdAt)}</td></tr>`)}</tbody></table></div>
${canCreate ? html`<h2>New merchant</h2>
<form method="post" action="/dashboard/merchants" class="filters" data-once>
${csrfField(ctx)}
${formKeyField()}
<div><label for="m-name">Name</label><input id="m-name" name="name" required maxlength="200"></div>
<div><label for="m-live">Mode</label><select id="m-live" name="live"><option value="no">test (simulated acquirers)</option><option value="yes">live</option></select></div>
<div><label for="m-unique">Duplicate order references</label><select id="m-unique" name="unique"><option value="no">allowed</option><option value="yes">refused</option></select></div>
<div><button type="submit">Create merchant</button></div>
</form>` : ''}`);
}

/**
 * A form's one-time key: a form whose effect must happen once (a merchant made, secrets made and
 * shown once) is sent again by a reload of its answer, Back and send, or a double click, and the
 * key finds what its first submission did.
 */
const formKeyField = () => html`<input type="hidden" name="formKey" value="${randomUUID()}">`;

/** The answer to a form sent again whose first answer showed secrets: what it did then, and where to get new ones. */
export function sentBeforePage(ctx: PageContext, title: string, what: Html, back: string): string {
  return page(ctx, title, html`${notice('ok', html`This form was sent before: ${what} Nothing was done again, and the secrets are shown on the first answer only.`)}
<p><a href="${back}">Back</a></p>`);
}

/** The answer to a new-merchant form sent again: the merchant its first submission made, whose secrets that answer showed. */
export function alreadyCreatedPage(ctx: PageContext, merchantId: string): string {
  return page(ctx, 'Merchant already created', html`${notice('ok', html`This form was sent before and created the merchant
<a href="/dashboard/merchants/${merchantId}" class="mono">${merchantId}</a>; no second one was made. Its credentials were shown on the first answer only:
if they were not copied, rotate them on the merchant's page.`)}
<p><a href="/dashboard/merchants">Back to the merchants</a></p>`);
}

/** Secrets are shown on this one answer and never again (only their digests are kept). */
export function secretPage(ctx: PageContext, title: string, intro: string, secrets: [string, string][], back: string): string {
  return page(ctx, title, html`<div class="secret" role="status"><p><strong>${intro}</strong> They are shown now and never again: copy them into your secret store.</p>
<dl class="facts">${secrets.map(([k, v], i) => html`<dt>${k}</dt><dd><code id="secret-${i}">${v}</code> <button type="button" class="secondary" data-copy="secret-${i}" hidden>Copy</button></dd>`)}</dl></div>
<p><a href="${back}">Continue</a></p>`);
}

export const credentialSecrets = (c: MerchantCredentials): [string, string][] => [
  ['Merchant id', c.merchantId], ['Entity id (/v1)', c.entityId], ['/v1 access token', c.accessToken],
  ['Client id (executions)', c.clientId], ['API key (executions)', c.apiKey], ['Workspace id', c.workspaceId],
];

/** What a rotation printed: only the secrets of the dialects rotated. */
export const rotatedSecrets = (r: RotatedCredentials): [string, string][] => [
  ['Merchant id', r.merchantId],
  ...(r.accessToken ? [['/v1 access token', r.accessToken], ['/v1 authentication.userId', r.userId!], ['/v1 authentication.password', r.password!]] as [string, string][] : []),
  ...(r.apiKey ? [['Client id (executions, unchanged)', r.clientId!], ['API key (executions)', r.apiKey]] as [string, string][] : []),
];

const dialectText: Readonly<Record<string, string>> = {
  both: 'the /v1 access token and the executions API key',
  opp: 'the /v1 access token',
  executions: 'the executions API key',
};

export function rotateConfirmPage(ctx: PageContext, m: Merchant, dialect: 'both' | CredentialDialect): string {
  const base = `/dashboard/merchants/${m.id}`;
  return page(ctx, 'Rotate credentials?', html`<p>Replace ${dialectText[dialect]} of <strong>${m.name}</strong>? The new secret is shown once, on the next page.</p>
${notice('error', `The old ${dialect === 'both' ? 'secrets stop' : 'secret stops'} working at once, with no overlap${dialect !== 'opp' ? ', and so does every executions access token issued with the old API key' : ''}: the merchant's servers must switch to the new one straight away.`)}
<form method="post" action="${base}/credentials/rotate">
${csrfField(ctx)}
${formKeyField()}
<input type="hidden" name="dialect" value="${dialect}">
<input type="hidden" name="confirmed" value="yes">
<div class="actions"><button type="submit" class="danger">Yes, rotate</button>
<a class="button secondary" href="${base}">Cancel</a></div>
</form>`);
}

const endpointConfirmations = {
  rotate: {
    title: 'Rotate the signing secret?',
    question: 'Make a new signing secret for',
    warning: {
      // A /v1 key decrypts the notifications and a receiver holds one: it changes at once. Executions events are signed with both for a while.
      opp: 'The new key is shown once, on the next page. The old one stops at once: every notification from then on is encrypted with the new key, so the receiver must switch to it straight away.',
      executions: 'The new secret is shown once, on the next page. The old one keeps signing beside it for 24 hours: the receiver must switch to the new one within that time.',
    },
    button: 'Yes, rotate',
  },
  disable: {
    title: 'Disable this endpoint?',
    question: 'Stop sending events to',
    warning: 'Nothing is sent to it while it is disabled; its deliveries wait, and after enabling it they are sent again with Redeliver.',
    button: 'Yes, disable',
  },
} as const;

/** The step before an action on a webhook endpoint that its receiver feels at once: a new secret, or no more events. */
export function endpointConfirmPage(ctx: PageContext, e: EndpointView, action: keyof typeof endpointConfirmations): string {
  const base = `/dashboard/webhooks/${e.endpointId}`;
  const c = endpointConfirmations[action];
  return page(ctx, c.title, html`<p>${c.question} <strong class="mono">${e.url}</strong>?</p>
${notice('error', typeof c.warning === 'string' ? c.warning : c.warning[e.dialect])}
<form method="post" action="${base}/${action === 'rotate' ? 'rotate' : 'status'}">
${csrfField(ctx)}
${action === 'disable' ? html`<input type="hidden" name="status" value="disabled">` : formKeyField()}
<input type="hidden" name="confirmed" value="yes">
<div class="actions"><button type="submit" class="danger">${c.button}</button>
<a class="button secondary" href="${base}">Cancel</a></div>
</form>`);
}

export interface MerchantView {
  readonly merchant: Merchant;
  readonly entities: Entity[];
  readonly origins: string[];
  readonly accounts: PspAccount[];
  /** Per account name, where its PSP must post notifications (absent: its connector takes none). */
  readonly notificationUrls: ReadonlyMap<string, string>;
  readonly workflow: WorkflowConfig | undefined;
  readonly endpoints: EndpointView[];
}

/**
 * A merchant-page form the dashboard refused: the box at fault (its id) marked and described there,
 * and what was typed in each box of that form given back to correct it (masked of card numbers).
 */
export interface RefusedForm { readonly box: string | undefined; readonly message: string; readonly typed: Readonly<Record<string, string>> }

export function merchantPage(ctx: PageContext, v: MerchantView, message: Html | undefined, refused?: RefusedForm): string {
  const m = v.merchant;
  // A box's value (what was typed, after a refusal of its form) and, at fault, its marking and sentence (WCAG 3.3.1).
  const typed = (id: string, fallback: string) => refused?.typed[id] ?? fallback;
  const wrong = (id: string) => (refused?.box === id ? html` aria-invalid="true" aria-describedby="${id}-error"` : '');
  const why = (id: string) => (refused?.box === id ? html`<p id="${id}-error" class="field-error">${refused.message}</p>` : '');
  const base = `/dashboard/merchants/${m.id}`;
  const wf = v.workflow;
  return page(ctx, m.name, html`${message ?? ''}
<dl class="facts">
<dt>Merchant id</dt><dd class="mono">${m.id}</dd>
<dt>Mode</dt><dd>${badge(m.live ? 'live' : 'test')}</dd>
<dt>Client id</dt><dd class="mono">${m.clientId}</dd>
<dt>Workspace</dt><dd class="mono">${m.workspaceId}</dd>
<dt>Entities</dt><dd>${v.entities.map((e) => html`<span class="mono">${e.id}</span> (${e.channelName}${e.uniqueMerchantTransactionId ? ', unique order references' : ''})<br>`)}</dd>
</dl>
<p><a href="/dashboard/payments?merchant=${m.id}">This merchant's payments</a></p>

<h2 id="credentials">Credentials</h2>
<p class="muted">Secrets are kept only as digests and were shown once, when made. Rotating makes new ones (shown once) and the old ones stop working at once.</p>
<form method="post" action="${base}/credentials/rotate" class="filters">
${csrfField(ctx)}
<div><label for="c-dialect">Credentials to rotate</label><select id="c-dialect" name="dialect"><option value="both">/v1 access token and executions API key</option><option value="opp">/v1 access token</option><option value="executions">executions API key</option></select></div>
<div><button type="submit" class="secondary">Rotate credentials…</button></div>
</form>

<h2 id="accounts">PSP accounts</h2>
<div class="scroll"><table class="list" aria-label="PSP accounts"><thead><tr><th>Name</th><th>Connector</th><th>Settings</th><th>Notification URL</th><th>Action</th></tr></thead>
<tbody>${v.accounts.map((a) => html`<tr><td data-label="Name">${a.name}</td><td data-label="Connector">${a.connector}</td>
<td data-label="Settings" class="mono">${JSON.stringify(accountView(a).settings)}</td>
<td data-label="Notification URL" class="mono">${v.notificationUrls.get(a.name) ?? '—'}</td>
<td data-label="Action"><form method="post" action="${base}/psp-accounts/remove">${csrfField(ctx)}<input type="hidden" name="name" value="${a.name}"><button type="submit" class="secondary">Remove ${a.name}</button></form></td></tr>`)}</tbody></table></div>
${v.accounts.length === 0 ? html`<p>No PSP account: payments go to the gateway's default acquirer.</p>` : ''}
<form method="post" action="${base}/psp-accounts" class="filters">
${csrfField(ctx)}
<div><label for="a-name">Account name</label><input id="a-name" name="name" required maxlength="64" value="${typed('a-name', '')}"${wrong('a-name')}>${why('a-name')}</div>
<div><label for="a-connector">Connector</label><input id="a-connector" name="connector" value="${typed('a-connector', 'simulator')}" required${wrong('a-connector')}>${why('a-connector')}</div>
<div class="search"><label for="a-settings">Settings (JSON; secrets are stored and never shown again)</label><input id="a-settings" name="settings" value="${typed('a-settings', '{}')}"${wrong('a-settings')}>${why('a-settings')}</div>
<div><button type="submit">Add or replace account</button></div>
</form>

<h2 id="workflow">Cascade (payment-acceptance workflow)</h2>
<form method="post" action="${base}/workflow" class="filters">
${csrfField(ctx)}
<div class="search"><label for="w-accounts">Accounts, tried in this order (comma-separated names; empty: default acquirer)</label><input id="w-accounts" name="accounts" value="${typed('w-accounts', wf?.accounts.join(', ') ?? '')}"${wrong('w-accounts')}>${why('w-accounts')}</div>
<fieldset class="search"><legend>Try the next account after a decline that is</legend>
${declineCategories.map((c) => html`<label class="check"><input type="checkbox" name="moveOn" value="${c}"${(refused?.typed['w-move-on'] !== undefined ? refused.typed['w-move-on'].split(',') : wf?.moveOn ?? []).includes(c) ? html` checked` : ''}> ${c}</label>`)}
</fieldset>
<div><button type="submit">Save cascade</button></div>
</form>

<h2 id="origins">Browser origins</h2>
<p class="muted">Pages that may frame the secure card fields and call browser tokenization.</p>
<ul>${v.origins.map((o) => html`<li><span class="mono">${o}</span> <form class="inline" method="post" action="${base}/origins/remove">${csrfField(ctx)}<input type="hidden" name="origin" value="${o}"><button type="submit" class="secondary">Remove</button></form></li>`)}</ul>
<form method="post" action="${base}/origins" class="filters">
${csrfField(ctx)}
<div class="search"><label for="o-origin">Origin</label><input id="o-origin" name="origin" placeholder="https://shop.example" required value="${typed('o-origin', '')}"${wrong('o-origin')}>${why('o-origin')}</div>
<div><button type="submit">Add origin</button></div>
</form>

<h2 id="webhooks">Webhook endpoints</h2>
<div class="scroll"><table class="list" aria-label="Webhook endpoints"><thead><tr><th>URL</th><th>API</th><th>Status</th><th>Types</th><th>Created (UTC)</th></tr></thead>
<tbody>${v.endpoints.map((e) => html`<tr><td data-label="URL"><a class="mono" href="/dashboard/webhooks/${e.endpointId}">${e.url}</a></td>
<td data-label="API">${e.dialect === 'opp' ? '/v1' : 'executions'}</td><td data-label="Status">${badge(e.status)}${e.failingSince ? html` failing since ${when(e.failingSince)}` : ''}</td>
<td data-label="Types">${e.types.length ? e.types.join(', ') : 'all'}</td><td data-label="Created">${when(e.createdAt)}</td></tr>`)}</tbody></table></div>
<form method="post" action="${base}/webhooks" class="filters" data-once>
${csrfField(ctx)}
${formKeyField()}
<div class="search"><label for="h-url">Endpoint URL</label><input id="h-url" name="url" type="url" required placeholder="https://shop.example/webhooks" value="${typed('h-url', '')}"${wrong('h-url')}>${why('h-url')}</div>
<div><label for="h-dialect">API</label><select id="h-dialect" name="dialect"><option value="opp">/v1 notifications</option><option value="executions"${typed('h-dialect', 'opp') === 'executions' ? html` selected` : ''}>executions events</option></select></div>
<div><label for="h-types">Types (comma-separated; empty: all)</label><input id="h-types" name="types" value="${typed('h-types', '')}"${wrong('h-types')}>${why('h-types')}</div>
<div><button type="submit">Add endpoint</button></div>
</form>`);
}

export function endpointPage(ctx: PageContext, e: EndpointView, deliveries: DeliveryView[], message: Html | undefined, perPage = Infinity): string {
  const base = `/dashboard/webhooks/${e.endpointId}`;
  const last = deliveries.at(-1);
  return page(ctx, 'Webhook endpoint', html`${message ?? ''}
<dl class="facts">
<dt>URL</dt><dd class="mono">${e.url}</dd>
<dt>API</dt><dd>${e.dialect === 'opp' ? '/v1 notifications' : 'executions events'}</dd>
<dt>Status</dt><dd>${badge(e.status)}${e.failingSince ? html` failing since ${when(e.failingSince)}` : ''}</dd>
<dt>Merchant</dt><dd><a class="mono" href="/dashboard/merchants/${e.merchantId}">${e.merchantId}</a></dd>
<dt>Types</dt><dd>${e.types.length ? e.types.join(', ') : 'all'}</dd>
${e.previousSecretUntil ? html`<dt>Previous secret</dt><dd>still signs until ${when(e.previousSecretUntil)}</dd>` : ''}
</dl>
<div class="actions">
${e.dialect === 'opp' ? html`<form method="post" action="${base}/test">${csrfField(ctx)}<button type="submit" class="secondary">Send test notification</button></form>` : ''}
<form method="post" action="${base}/rotate">${csrfField(ctx)}<button type="submit" class="secondary">Rotate secret</button></form>
<form method="post" action="${base}/status">${csrfField(ctx)}<input type="hidden" name="status" value="${e.status === 'active' ? 'disabled' : 'active'}"><button type="submit" class="${e.status === 'active' ? 'danger' : 'secondary'}">${e.status === 'active' ? 'Disable' : 'Enable'}</button></form>
</div>
<h2>Delivery log</h2>
<div class="scroll"><table class="list" aria-label="Deliveries"><thead><tr><th>Created (UTC)</th><th>Event</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Action</th></tr></thead>
<tbody>${deliveries.map((d) => html`<tr><td data-label="Created">${when(d.createdAt)}</td><td data-label="Event"><span class="mono">${d.eventType}</span><br><span class="mono muted">${d.eventId}</span></td>
<td data-label="Status">${badge(d.status)}${d.nextAttemptAt && d.status === 'pending' ? html`<br>next ${when(d.nextAttemptAt)}` : ''}</td><td data-label="Attempts" class="num">${d.attempts}</td>
<td data-label="Last answer">${d.lastStatus ? `HTTP ${d.lastStatus}` : d.lastError ?? ''}</td>
<td data-label="Action"><form method="post" action="${base}/redeliver">${csrfField(ctx)}<input type="hidden" name="event" value="${d.eventId}"><button type="submit" class="secondary">Redeliver</button></form></td></tr>`)}</tbody></table></div>
${deliveries.length === 0 ? html`<p>Nothing sent to this endpoint yet.</p>` : ''}
${deliveries.length === perPage && last ? html`<div class="pager"><a class="button secondary" href="${base}?before=${Date.parse(last.createdAt)}.${last.deliveryId}">Older deliveries</a></div>` : ''}`);
}

export function keysPage(ctx: PageContext, status: { current: number; versions: { version: number; cards: number }[] }, loaded: number[]): string {
  const stale = status.versions.filter((v) => v.version < status.current).reduce((n, v) => n + v.cards, 0);
  return page(ctx, 'Key versions', html`<p>Current key-encrypting key: version <strong>${status.current}</strong>. ${stale === 0
    ? 'Every card is wrapped under it.' : html`${stale} card(s) still on older versions: run <code>switchyard keys rewrap</code>.`}</p>
<div class="scroll"><table class="list" aria-label="Key versions"><thead><tr><th>Version</th><th class="num">Cards</th><th>Loaded by this node</th></tr></thead>
<tbody>${status.versions.map((v) => html`<tr><td data-label="Version">${v.version}${v.version === status.current ? ' (current)' : ''}</td><td data-label="Cards" class="num">${v.cards}</td><td data-label="Loaded">${loaded.includes(v.version) ? 'yes' : 'no'}</td></tr>`)}</tbody></table></div>
<p class="muted">Rotation re-wraps data keys only and runs from the command line while servers keep serving: <code>switchyard keys rotate</code>.</p>`);
}
