import { html, type Html } from './html.ts';
import { canConfigure, type DashboardUser } from './model.ts';

/** What every signed-in page needs: who is looking, and the token its forms carry. */
export interface PageContext {
  readonly user: DashboardUser;
  readonly csrfToken: string;
  /** The nav entry to mark as the current page. */
  readonly section: 'overview' | 'payments' | 'reconciliation' | 'merchants' | 'keys' | 'audit' | 'users';
}

export const csrfField = (ctx: { csrfToken: string }): Html => html`<input type="hidden" name="_csrf" value="${ctx.csrfToken}">`;

function shell(title: string, header: Html, main: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Switchyard</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<script src="/dashboard/assets/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header}
<main id="main">
${main}
</main>
</body>
</html>
`.text;
}

/** A signed-in page: navigation by role, who is signed in, sign-out. */
export function page(ctx: PageContext, title: string, main: Html): string {
  const u = ctx.user;
  const link = (section: PageContext['section'], href: string, label: string) =>
    html`<li><a href="${href}"${section === ctx.section ? html` aria-current="page"` : ''}>${label}</a></li>`;
  const header = html`<header class="top">
<a class="brand" href="/dashboard">Switchyard</a>
<nav aria-label="Main">
<ul>
${link('overview', '/dashboard', 'Overview')}
${link('payments', '/dashboard/payments', 'Payments')}
${link('reconciliation', '/dashboard/reconciliation', 'Reconciliation')}
${canConfigure(u) ? link('merchants', '/dashboard/merchants', 'Merchants') : ''}
${canConfigure(u) && u.merchantId === undefined ? link('keys', '/dashboard/keys', 'Keys') : ''}
${canConfigure(u) ? link('audit', '/dashboard/audit', 'Audit log') : ''}
</ul>
</nav>
<div class="who">
<span><span class="email">${u.email}</span> <span class="role">${u.role}${u.merchantId ? html` · one merchant` : ''}</span></span>
<form method="post" action="/dashboard/sign-out">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form>
</div>
</header>`;
  return shell(title, header, html`<h1>${title}</h1>\n${main}`);
}

/** A page for someone not signed in (sign-in, errors before sign-in). */
export function publicPage(title: string, main: Html): string {
  return shell(title, html`<header class="top"><span class="brand">Switchyard</span></header>`, html`<h1>${title}</h1>\n${main}`);
}

export const notice = (kind: 'ok' | 'error', text: string | Html): Html =>
  html`<p class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`;

/**
 * What an operator's form did, on the page that answers it. It takes the focus as the page loads:
 * a keyboard or screen-reader user starts at what happened (and tabs on from there), not at the
 * top of a page whose status message a reader does not announce on load.
 */
export const actionNotice = (kind: 'ok' | 'error', text: string | Html): Html =>
  html`<p class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}" tabindex="-1" autofocus>${text}</p>`;

export const badge = (status: string): Html => html`<span class="badge s-${status.replace(/[^a-z_]/gi, '')}">${status}</span>`;
