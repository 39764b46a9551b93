import { createHash } from 'node:crypto';
import { formatMajorUnits } from '../money/money.ts';
import type { Challenge } from './store.ts';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  // A control character has no place in a page (a NUL is not even valid HTML): shown as U+FFFD.
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\uFFFD');
}

const copy = {
  '3ds': {
    title: 'Verify your payment',
    issuer: 'Switchyard test issuer · 3-D Secure',
    lead: 'Your bank asks you to confirm this purchase. This is a simulated challenge: choose how the issuer answers.',
    instrument: 'Card',
  },
  bank_transfer: {
    title: 'Confirm your bank transfer',
    issuer: 'Switchyard test bank · online banking',
    lead: 'Authorize the transfer to the merchant. This is a simulated bank: choose how the bank answers.',
    instrument: 'Account',
  },
} as const;

/** The frame of every hosted page: our stylesheet only, no script, no referrer. */
export function layout(title: string, main: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/hosted/assets/hosted.css">
${head}</head>
<body>
<main class="card">
${main}
</main>
</body>
</html>
`;
}

/** The challenge page: works without JavaScript; the buttons post the shopper's answer once. */
export function renderChallengePage(c: Challenge, action: string): string {
  const t = copy[c.purpose];
  const amount = `${formatMajorUnits(c.amount)} ${c.amount.currency}`;
  return layout(t.title, `<p class="issuer">${escapeHtml(t.issuer)}</p>
<h1>${escapeHtml(t.title)}</h1>
<p class="lead">${escapeHtml(t.lead)}</p>
<dl class="summary">
  <div><dt>Merchant</dt><dd>${escapeHtml(c.merchantName)}</dd></div>
  <div><dt>Amount</dt><dd class="amount">${escapeHtml(amount)}</dd></div>
  <div><dt>${t.instrument}</dt><dd>${escapeHtml(c.instrumentLabel)}</dd></div>
</dl>
<form method="post" action="${escapeHtml(action)}">
  <div class="actions">
    <button type="submit" name="outcome" value="completed" class="primary">Complete</button>
    <button type="submit" name="outcome" value="failed" class="secondary">Fail</button>
  </div>
  <button type="submit" name="outcome" value="cancelled" class="link">Cancel and return to the merchant</button>
</form>`);
}

/**
 * The page that sends the shopper on to a PSP that runs the challenge itself and wants a POST:
 * its form, as the PSP gave it, submitted by the shopper (hosted pages run no script).
 */
export function renderForwardPage(c: Challenge, redirect: NonNullable<Challenge['pspRedirect']>): string {
  const amount = `${formatMajorUnits(c.amount)} ${c.amount.currency}`;
  const fields = redirect.parameters.map((p) => `  <input type="hidden" name="${escapeHtml(p.name)}" value="${escapeHtml(p.value)}">`).join('\n');
  return layout('Verify your payment', `<p class="issuer">3-D Secure</p>
<h1>Verify your payment</h1>
<p class="lead">Your bank asks you to confirm this purchase of ${escapeHtml(amount)} on its own page.</p>
<form method="post" action="${escapeHtml(redirect.url)}">
${fields}
  <div class="actions"><button type="submit" class="primary">Continue to your bank</button></div>
</form>
<script>${forwardScript}</script>`);
}

/**
 * The forwarding page's one script: it sends the form on at once, as a 3-D Secure redirect is
 * expected to go (the shopper already chose to pay; a second button on the way is one more place to
 * give up). Allowed by its hash alone (`forwardScriptSource`); without script the button does it.
 */
const forwardScript = 'document.forms[0].submit()';
export const forwardScriptSource = `'sha256-${createHash('sha256').update(forwardScript).digest('base64')}'`;

const endings = {
  used: { title: 'Already answered', text: 'This page has already been used. Return to the merchant’s site to see the result of your payment.' },
  expired: { title: 'Session expired', text: 'This payment session has expired. Return to the merchant’s site and start the payment again.' },
  not_found: { title: 'Unknown session', text: 'There is no payment session at this address.' },
  invalid: { title: 'Answer not understood', text: 'The answer sent from this page could not be read. Go back and press one of its buttons.' },
  unavailable: { title: 'Not available right now', text: 'The payment service cannot answer right now; nothing was lost. Reload this page in a moment.' },
  failed: { title: 'Something went wrong', text: 'This page could not be answered. Reload it in a moment; if it happens again, return to the merchant’s site.' },
} as const;

/** The page shown instead of the buttons once a session is used, expired or unknown; `back`: the merchant's page the payment sends the shopper to now. */
export function renderEndedPage(reason: keyof typeof endings, back?: string): string {
  const e = endings[reason];
  return layout(e.title, `<p class="issuer">Switchyard</p>
<h1>${e.title}</h1>
<p class="lead">${escapeHtml(e.text)}</p>${back ? `
<div class="actions"><a class="button primary" href="${escapeHtml(back)}">Return to the merchant</a></div>` : ''}`);
}

/**
 * A stand-in for a merchant's result page, so the flow can be tried with curl and a browser alone:
 * shows what a shop's `shopperResultUrl` receives and the status call to make next.
 */
export function renderDemoReturnPage(params: URLSearchParams): string {
  const resourcePath = params.get('resourcePath') ?? '';
  const rows = [...params].map(([k, v]) => `  <div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('\n');
  return layout('Back at the merchant', `<p class="issuer">Switchyard demo · shopperResultUrl</p>
<h1>Back at the merchant</h1>
<p class="lead">A shop's result page receives these parameters. Its backend now asks for the outcome with <code>GET ${escapeHtml(resourcePath || '/v1/payments/{id}')}?entityId=…</code> and its access token.</p>
<dl class="summary">
${rows}
</dl>`);
}

export const hostedCss = `:root { color-scheme: light; --ink: #14213d; --muted: #5c677d; --line: #d9dee7; --accent: #0b6e4f; --bad: #a4161a; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #eef1f6; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
.card { width: min(440px, 100% - 24px); margin: 12px; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 28px 24px; box-shadow: 0 8px 24px rgba(20, 33, 61, .08); }
.issuer { margin: 0 0 8px; font-size: 13px; letter-spacing: .04em; text-transform: uppercase; color: var(--muted); }
h1 { margin: 0 0 8px; font-size: 22px; }
.lead { margin: 0 0 20px; color: var(--muted); }
.summary { margin: 0 0 24px; border: 1px solid var(--line); border-radius: 8px; }
.summary div { display: flex; justify-content: space-between; gap: 16px; padding: 10px 14px; }
.summary div + div { border-top: 1px solid var(--line); }
dt { color: var(--muted); }
dd { margin: 0; font-weight: 600; text-align: right; overflow-wrap: anywhere; }
.amount { font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, monospace; font-size: 14px; overflow-wrap: anywhere; }
.actions { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-bottom: 12px; }
button { font: inherit; border-radius: 8px; padding: 12px 16px; cursor: pointer; }
button:focus-visible { outline: 3px solid #4d7cfe; outline-offset: 2px; }
.primary { background: var(--accent); color: #fff; border: 1px solid var(--accent); font-weight: 600; }
.secondary { background: #fff; color: var(--bad); border: 1px solid var(--bad); font-weight: 600; }
.link { width: 100%; background: none; border: none; color: var(--muted); text-decoration: underline; padding: 8px; }
@media (max-width: 360px) { .actions { grid-template-columns: 1fr; } }
`;
