import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface ShopOptions {
  readonly gatewayUrl: string;
  readonly accessToken: string;
  readonly entityId: string;
}

/**
 * A shop integrated the COPYandPAY way, on its own origin: its backend creates a checkout server to
 * server, its page loads the widget with the checkout id and a `paymentWidgets` form whose action is
 * its result page, and the result page's backend reads `resourcePath`. The page itself never asks
 * the gateway anything and holds no card field.
 */
export interface CopyAndPayShop {
  readonly url: string;
  readonly origin: string;
  /** Every `resourcePath` the result page received, with the status it read. */
  readonly results: { id: string; resourcePath: string; body: any }[];
  close(): Promise<void>;
}

async function gateway(o: ShopOptions, method: 'GET' | 'POST', path: string, params: Record<string, string>) {
  const q = new URLSearchParams({ entityId: o.entityId, ...params });
  const res = await fetch(method === 'GET' ? `${o.gatewayUrl}${path}?${q}` : `${o.gatewayUrl}${path}`, {
    method, headers: { authorization: `Bearer ${o.accessToken}`, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(method === 'POST' ? { body: q } : {}),
  });
  return res.json() as Promise<any>;
}

export async function startCopyAndPayShop(o: ShopOptions): Promise<CopyAndPayShop> {
  const results: CopyAndPayShop['results'] = [];
  let base = '';
  const page = (title: string, head: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title>
<style>body{margin:0;font:16px system-ui,sans-serif;background:#f3f4f7;color:#1d2433}header{background:#14213d;color:#fff;padding:14px 20px;font-weight:700}
main{max-width:520px;margin:0 auto;padding:20px 12px}h1{font-size:20px}.summary{display:flex;justify-content:space-between;margin-bottom:16px;color:#3b4456}</style>
${head}</head><body><header>Fernweh Outdoor · Checkout</header><main>${body}</main></body></html>`;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const send = (status: number, html: string) => { res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }); res.end(html); };
    try {
      if (url.pathname === '/checkout') {
        const q = url.searchParams;
        const amount = q.get('amount') ?? '89.90';
        const params: Record<string, string> = {
          amount, currency: 'EUR', paymentType: q.get('type') ?? 'DB', merchantTransactionId: q.get('order') ?? 'order-1',
          'customer.givenName': 'Jane', 'customer.surname': 'Jones', 'customer.email': 'jane@example.com', 'billing.country': 'DE', 'billing.city': 'Berlin',
        };
        if (q.get('registration')) params['registrations[0].id'] = q.get('registration')!;
        if (q.get('createRegistration')) params.createRegistration = 'true';
        // `checkout`: the page of a checkout made already, as a second tab of the shop shows it.
        const checkout = q.get('checkout') ? { id: q.get('checkout')!, result: { code: '000.200.100' } } : await gateway(o, 'POST', '/v1/checkouts', params);
        if (checkout.result.code !== '000.200.100') return send(500, page('Error', '', `<pre>${esc(JSON.stringify(checkout))}</pre>`));
        const options = {
          locale: q.get('locale') ?? 'en', style: q.get('style') ?? 'card', brandDetection: q.get('brandDetection') !== 'false',
        };
        // The documented callbacks: the page learns the form is ready and may veto a submit.
        const head = `<script>window.wpwlEvents = [];
var wpwlOptions = Object.assign(${JSON.stringify(options)}, {
  onReady: function () { window.wpwlEvents.push('ready'); document.body.setAttribute('data-widget', 'ready'); },
  onBeforeSubmitCard: function () { window.wpwlEvents.push('beforeSubmitCard'); return window.blockSubmit !== true; },
  onError: function (e) { window.wpwlEvents.push('error:' + (e && e.name)); }
});</script>
<script src="${esc(o.gatewayUrl)}/v1/paymentWidgets.js?checkoutId=${esc(checkout.id)}"></script>`;
        return send(200, page('Pay your order', head, `<h1>Pay your order</h1><div class="summary"><span>Order ${esc(params.merchantTransactionId!)}</span><strong>€${esc(amount)}</strong></div>
<form action="${esc(base)}/result?order=${esc(params.merchantTransactionId!)}" class="paymentWidgets" data-brands="${esc(q.get('brands') ?? 'VISA MASTER AMEX')}"></form>`));
      }
      if (url.pathname === '/result') {
        const id = url.searchParams.get('id') ?? '';
        const resourcePath = url.searchParams.get('resourcePath') ?? '';
        // Clients validate the path before calling it (the PRETIX integration's check).
        if (!/^\/v[0-9]+\/checkouts\/[a-zA-Z0-9.-]+\/payment$/.test(resourcePath)) return send(400, page('Bad return', '', ''));
        const body = await gateway(o, 'GET', resourcePath, {});
        results.push({ id, resourcePath, body });
        return send(200, page('Thank you', '', `<h1>Thank you</h1><p>Payment <span id="payment-id">${esc(String(body.id))}</span></p>
<p id="code">${esc(body.result.code)}</p><p id="description">${esc(body.result.description)}</p><p id="order">${esc(String(body.merchantTransactionId))}</p>`));
      }
      send(404, page('Not found', '', ''));
    } catch (err) {
      send(500, page('Error', '', `<pre>${esc(String(err))}</pre>`));
    }
  });
  // Every loopback address, so `localhost` answers however the browser resolves it; the gateway's
  // 127.0.0.1 is then another site, not only another port.
  await new Promise<void>((resolve) => server.listen(0, resolve));
  base = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    url: base, origin: base, results,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
