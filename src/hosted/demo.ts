import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';

/**
 * The demo storefront: a merchant's page with the secure fields, and the "small merchant backend"
 * of the seed's server-to-server pattern. The backend talks to the gateway only over HTTP with the
 * demo merchant's client credentials: client/init, create execution, authorize, long-poll, 3-D
 * Secure through `requiredAction.href`, confirmation. It runs on its own origin so that the
 * gateway's frames really are cross-origin to it, as they are for a real merchant.
 */
export interface DemoStoreOptions {
  gatewayUrl: string;
  clientId: string;
  apiKey: string;
  workspaceId: string;
  host: string;
  port: number;
}

export interface DemoStore {
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

const product = { name: 'Trail running shoes', price: { value: '129.90', currency: 'EUR' } };

export async function startDemoStore(o: DemoStoreOptions): Promise<DemoStore> {
  let cached: { token: string; until: number } | undefined;
  async function token(): Promise<string> {
    // Cached and refreshed a minute before expiry, as the seed's backend does.
    if (cached && cached.until > Date.now() + 60_000) return cached.token;
    const r = await fetch(`${o.gatewayUrl}/auth/token/${o.clientId}`, { method: 'POST', headers: { 'x-api-key': o.apiKey } });
    if (!r.ok) throw new Error(`gateway token: HTTP ${r.status}`);
    const t = await r.json() as { access_token: string; expires_in: number };
    cached = { token: t.access_token, until: Date.now() + t.expires_in * 1000 };
    return t.access_token;
  }
  async function gateway(method: string, path: string, body?: unknown): Promise<any> {
    const r = await fetch(o.gatewayUrl + path, {
      method,
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json', ...(method === 'GET' ? {} : { 'x-idempotency-key': randomUUID() }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = await r.json();
    if (r.status >= 300) throw Object.assign(new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(json)}`), { status: r.status, body: json });
    return json;
  }
  const wf = '/merchant/workflows/payment-acceptance/executions';
  const poll = (id: string, statuses: string[]) => gateway('GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(statuses))}`);

  const app: FastifyInstance = Fastify({ logger: false });
  // Every answer is typed as sent (no sniffing); an HTML answer without its own policy loads nothing.
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('content-security-policy') && String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    }
    return payload;
  });
  const page = (reply: FastifyReply, html: (nonce: string) => string) => {
    const nonce = randomBytes(16).toString('base64');
    return reply.header('content-security-policy', demoPolicy(o.gatewayUrl, nonce)).header('referrer-policy', 'same-origin')
      .header('content-type', 'text/html; charset=utf-8').send(html(nonce));
  };
  const holderOf = (cookie: string | undefined) => /(?:^|;\s*)holder=([0-9a-f-]{36})/.exec(cookie ?? '')?.[1];
  let origin = '';

  app.get('/', async (_req, reply) => reply.redirect('/demo', 302));
  // The browser's own ask for the shop's icon: none, without a failed load in the console.
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
  app.get('/demo', async (req, reply) => {
    let holder = holderOf(req.headers.cookie);
    if (!holder) {
      holder = randomUUID();
      reply.header('set-cookie', `holder=${holder}; Path=/; HttpOnly; SameSite=Lax`);
    }
    return page(reply, (nonce) => checkoutPage(o.gatewayUrl, nonce));
  });

  // The storefront's own API (the seed's /payments/init and /checkout/place-order).
  app.post('/demo/api/init', async (req) => {
    const holder = holderOf(req.headers.cookie) ?? randomUUID();
    return gateway('POST', '/merchant/client/init', { type: 'secureFields', workflowCode: 'payment-acceptance', holderReference: holder, workspaceId: o.workspaceId });
  });
  app.post<{ Body: { paymentInstrumentId?: string } }>('/demo/api/place-order', async (req, reply) => {
    const holder = holderOf(req.headers.cookie);
    const instrumentId = req.body?.paymentInstrumentId;
    if (!holder || typeof instrumentId !== 'string') return reply.code(400).send({ error: 'paymentInstrumentId is required' });
    const orderReference = `order-${randomUUID().slice(0, 8)}`;
    try {
      const execution = await gateway('POST', wf, {
        merchantReference: orderReference, holderReference: holder, workspaceId: o.workspaceId,
        meta: { order: { reference: orderReference }, customer: { reference: holder }, tags: { channel: 'web' } },
      });
      await gateway('POST', `${wf}/${execution.id}/authorize`, {
        amount: product.price, returnInfo: { success: `${origin}/demo/return/${execution.id}` },
        paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: product.price, storeInstrument: false, paymentInstrumentId: instrumentId }],
      });
      const result = await poll(execution.id, ['created', 'authorizeRequested']);
      if (result.actionRequired === '3ds') return { actionRequired: '3ds', redirectUrl: result.requiredAction.href, executionId: execution.id };
      return { status: result.status, executionId: execution.id, orderReference, confirmation: `${origin}/demo/confirmation/${execution.id}` };
    } catch (err) {
      const e = err as { status?: number; body?: { errors?: { detail: string }[] } };
      return reply.code(502).send({ error: e.body?.errors?.[0]?.detail ?? 'the payment could not be started' });
    }
  });
  // The shopper comes back here from the 3-D Secure page: wait for the outcome, then confirm.
  app.get<{ Params: { id: string } }>('/demo/return/:id', async (req, reply) => {
    if (!/^[0-9a-f-]{36}$/.test(req.params.id)) return reply.code(404).send('no such order');
    await poll(req.params.id, ['authorizePending', 'authorizeRequested']);
    return reply.redirect(`/demo/confirmation/${req.params.id}`, 303);
  });
  app.get<{ Params: { id: string } }>('/demo/confirmation/:id', async (req, reply) => {
    if (!/^[0-9a-f-]{36}$/.test(req.params.id)) return reply.code(404).send('no such order');
    const e = await gateway('GET', `${wf}/${req.params.id}`);
    return page(reply, (nonce) => confirmationPage(e, nonce));
  });

  const address = await app.listen({ host: o.host, port: o.port });
  origin = new URL(address.replace('://0.0.0.0', '://127.0.0.1')).origin;
  return { url: `${origin}/demo`, origin, close: () => app.close() };
}

/**
 * The demo pages' Content-Security-Policy: scripts and styles only from the gateway's SDK and the
 * page's own nonce-bearing blocks, the secure fields framed from the gateway, API calls to this
 * origin and the gateway, and nothing else (no plugins, no base or form hijacking, no framing).
 */
export function demoPolicy(gatewayUrl: string, nonce: string): string {
  const gateway = new URL(gatewayUrl);
  return [
    "default-src 'none'", `script-src 'nonce-${nonce}' ${gateway.origin}${gateway.pathname.replace(/\/+$/, '')}/sdk/`, `style-src 'nonce-${nonce}'`,
    `connect-src 'self' ${gateway.origin}`, `frame-src ${gateway.origin}`, "img-src 'self'",
    "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'", "object-src 'none'",
  ].join('; ');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const style = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2433;background:#f4f6fb}
header{background:#1d2433;color:#fff;padding:14px 24px;font-weight:600;letter-spacing:.02em}
main{max-width:920px;margin:32px auto;padding:0 16px;display:grid;grid-template-columns:1fr 1fr;gap:24px}
@media (max-width:700px){main{grid-template-columns:1fr;margin:16px auto}}
section{background:#fff;border-radius:12px;padding:24px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:0 0 16px}.price{font-size:28px;font-weight:700;margin:12px 0}
.shoe{height:160px;border-radius:10px;background:linear-gradient(135deg,#4d7cfe,#9b6bff);display:flex;align-items:center;justify-content:center;color:#fff;font-size:32px;font-weight:800;letter-spacing:.12em}
label{display:block;font-size:14px;font-weight:600;margin:12px 0 4px}.field{border:1px solid #c9d0de;border-radius:8px;background:#fff;height:46px}
.field.focus{border-color:#4d7cfe;box-shadow:0 0 0 3px rgba(77,124,254,.2)}.field.invalid{border-color:#d93025}
.row{display:grid;grid-template-columns:1fr 1fr;gap:12px}button{font:inherit;width:100%;margin-top:18px;padding:12px;border:0;border-radius:8px;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer}
button:disabled{background:#9fb3f5;cursor:default}.saved label{display:flex;gap:8px;align-items:center;font-weight:500;border:1px solid #c9d0de;border-radius:8px;padding:10px;margin:8px 0;cursor:pointer}
.muted{color:#5b6477;font-size:14px}#message{min-height:24px;margin-top:12px;color:#d93025;font-size:14px}.brand{font-size:13px;color:#5b6477;float:right}
.check{display:flex;gap:8px;align-items:center;font-weight:500}`;

function checkoutPage(gatewayUrl: string, nonce: string) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Demo store — checkout</title><style nonce="${nonce}">${style}</style>
<script nonce="${nonce}" src="${esc(gatewayUrl)}/sdk/v1/switchyard.js"></script></head>
<body><header>Demo store · powered by Switchyard</header><main>
<section><div class="shoe" aria-hidden="true">TRAIL · RUN</div><h1>${esc(product.name)}</h1><div class="price">€129.90</div>
<p class="muted">Test mode. Try card 4200 0000 0000 0042 (3-D Secure challenge) or 4111 1111 1111 1111 (frictionless), any future expiry, any CVC.</p></section>
<section><h2>Payment</h2>
<div class="saved" id="saved" hidden><div class="muted">Your saved cards</div><div id="saved-list"></div>
<label><input type="radio" name="card" value="new" checked> Use a new card</label></div>
<div id="new-card">
<label data-box="card-number">Card number <span class="brand" id="brand"></span></label><div class="field" id="card-number"></div>
<div class="row"><div><label data-box="card-expiry">Expiry</label><div class="field" id="card-expiry"></div></div>
<div><label data-box="card-cvv">CVC</label><div class="field" id="card-cvv"></div></div></div>
<label class="check"><input type="checkbox" id="save-card"> Save this card for next time</label></div>
<button id="place-order" type="button" disabled>Pay €129.90</button><div id="message" role="alert"></div></section>
</main>
<script nonce="${nonce}">
(async () => {
  const message = document.getElementById('message');
  const button = document.getElementById('place-order');
  const init = await fetch('/demo/api/init', { method: 'POST' }).then((r) => r.json());
  const switchyard = Switchyard.init(init);
  const fields = switchyard.secureFields({ style: { fontSize: '16px', color: '#1d2433' } });
  fields.mount('cardNumber', '#card-number').mount('expiry', '#card-expiry').mount('cvv', '#card-cvv');
  const boxes = { cardNumber: 'card-number', expiry: 'card-expiry', cvv: 'card-cvv' };
  let complete = false;
  const chosen = () => document.querySelector('input[name=card]:checked')?.value ?? 'new';
  const refresh = () => { button.disabled = chosen() === 'new' && !complete; };
  // What is wrong, in words, once the shopper leaves a field: a red border alone tells nothing to
  // a screen reader or to whoever cannot see it.
  const wrong = { cardNumber: 'The card number is not valid.', expiry: 'The expiry date is not valid.', cvv: 'The security code is not valid.' };
  const states = {};
  const tell = () => {
    const bad = Object.keys(wrong).filter((f) => states[f] && states[f].left && !states[f].valid && !states[f].empty);
    const said = bad.map((f) => wrong[f]).join(' ');
    if (said !== '' || Object.values(wrong).some((w) => message.textContent.includes(w))) message.textContent = said;
  };
  fields.on('change', (e) => {
    complete = e.complete;
    states[e.field] = { ...states[e.field], valid: e.valid, empty: e.empty };
    if (e.valid || e.empty) tell();
    document.getElementById(boxes[e.field]).classList.toggle('invalid', !e.valid && !e.empty);
    if (e.field === 'cardNumber') document.getElementById('brand').textContent = e.brand ?? '';
    refresh();
  });
  fields.on('focus', (e) => document.getElementById(boxes[e.field]).classList.add('focus'));
  // A card field is a frame of the gateway's, which a label's for= cannot name: its label's click focuses it.
  document.querySelectorAll('label[data-box]').forEach((l) => l.addEventListener('click', () => document.querySelector('#' + l.dataset.box + ' iframe')?.focus()));
  // Enter in a card field places the order, as Enter in any form field would.
  fields.on('submit', () => { if (!button.disabled) button.click(); });
  fields.on('blur', (e) => {
    document.getElementById(boxes[e.field]).classList.remove('focus');
    states[e.field] = { ...states[e.field], left: true };
    tell();
  });
  const saved = await switchyard.savedCards();
  if (saved.length > 0) {
    document.getElementById('saved').hidden = false;
    document.getElementById('saved-list').innerHTML = saved.map((c, i) =>
      '<label><input type="radio" name="card" value="' + c.id + '"' + (i === 0 ? ' checked' : '') + '> ' + c.network.toUpperCase() + ' •••• ' + c.suffix + ' <span class="muted">' + c.expiryMonth + '/' + c.expiryYear.slice(2) + '</span></label>').join('');
  }
  document.querySelectorAll('input[name=card]').forEach((r) => r.addEventListener('change', () => {
    document.getElementById('new-card').hidden = chosen() !== 'new'; refresh();
  }));
  document.getElementById('new-card').hidden = chosen() !== 'new';
  refresh();
  button.addEventListener('click', async () => {
    button.disabled = true; message.textContent = '';
    try {
      const instrumentId = chosen() === 'new'
        ? (await fields.tokenize({ storeInstrument: document.getElementById('save-card').checked })).id : chosen();
      const r = await fetch('/demo/api/place-order', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paymentInstrumentId: instrumentId }) }).then((x) => x.json());
      if (r.actionRequired === '3ds' && r.redirectUrl) { window.location.assign(r.redirectUrl); return; }
      if (r.confirmation) { window.location.assign(r.confirmation); return; }
      throw new Error(r.error || 'The payment could not be made');
    } catch (err) { message.textContent = err.message; button.disabled = false; }
  });
})().catch((err) => { document.getElementById('message').textContent = 'Checkout could not start: ' + err.message; });
</script></body></html>`;
}

/** Statuses whose outcome is still coming: the PSP's answer, the shopper's challenge, or the reconciler asking the PSP. */
const stillOpen = new Set(['created', 'authorizeRequested', 'authorizePending', 'unknown']);

function confirmationPage(e: { status: string; merchantReference?: string; amount?: { value: string; currency: string } }, nonce: string) {
  const ok = e.status === 'authorized';
  // Told "not completed" while the payment may yet be authorized, a shopper pays again and is charged twice.
  const open = stillOpen.has(e.status);
  const title = ok ? 'thank you' : open ? 'payment being confirmed' : 'payment not completed';
  const heading = ok ? 'Thank you — your order is confirmed'
    : open ? 'Your payment is being confirmed' : 'Your payment was not completed';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${open ? '<meta http-equiv="refresh" content="5">' : ''}<title>Demo store — ${title}</title><style nonce="${nonce}">${style}.wide{grid-column:1/-1}</style></head>
<body><header>Demo store · powered by Switchyard</header><main><section class="wide">
<h1 id="outcome">${heading}</h1>${open ? `
<p id="wait">The bank has not answered yet. Please do not pay again: this page shows the outcome as soon as it is known.</p>` : ''}
<p>Order <strong id="order">${esc(e.merchantReference ?? '')}</strong> · status <strong id="status">${esc(e.status)}</strong></p>
<p><a href="/demo">Back to the store</a></p></section></main></body></html>`;
}
