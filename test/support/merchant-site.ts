import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from './harness.ts';
import { opp } from './harness.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A test merchant as the seed guide describes one: its backend starts the payment server to
 * server with a `shopperResultUrl` pointing back at itself, sends the shopper on with an HTML form
 * built from `redirect`, and on return reads `resourcePath` and makes the status call.
 */
export interface MerchantSite {
  readonly url: string;
  /** Every `resourcePath` the result page received, in order. */
  readonly returns: string[];
  close(): Promise<void>;
}

export async function startMerchantSite(gw: Pick<Gateway, 'url' | 'merchant'>): Promise<MerchantSite> {
  const returns: string[] = [];
  let base = '';
  const page = (title: string, body: string) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const send = (status: number, html: string) => { res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }); res.end(html); };
    try {
      if (url.pathname === '/checkout') {
        // The shop's own backend calls the gateway; the browser never talks to /v1.
        const params: Record<string, string> = {
          amount: url.searchParams.get('amount') ?? '92.00', currency: 'EUR', paymentType: url.searchParams.get('type') ?? 'DB',
          shopperResultUrl: `${base}/result`, merchantTransactionId: url.searchParams.get('order') ?? 'order-1',
        };
        const brand = url.searchParams.get('brand') ?? 'VISA';
        if (brand === 'SOFORTUEBERWEISUNG') Object.assign(params, { paymentBrand: brand, 'bankAccount.country': 'DE', 'bankAccount.bankName': 'Testbank' });
        else Object.assign(params, { paymentBrand: brand, 'card.number': url.searchParams.get('card') ?? '4200000000000042', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' });
        const r = await opp(gw, 'POST', '/v1/payments', params);
        if (!r.body.redirect) return send(200, page('Payment finished', `<p id="code">${esc(r.body.result.code)}</p>`));
        const { url: action, method = 'POST', parameters } = r.body.redirect as { url: string; method?: string; parameters: { name: string; value: string }[] };
        const inputs = parameters.map((p) => `<input type="hidden" name="${esc(p.name)}" value="${esc(p.value)}">`).join('');
        return send(200, page('Authenticate your payment', `<form action="${esc(action)}" method="${esc(method)}">${inputs}<button type="submit">Continue to your bank</button></form>`));
      }
      if (url.pathname === '/result') {
        const resourcePath = url.searchParams.get('resourcePath') ?? '';
        returns.push(resourcePath);
        const status = await opp(gw, 'GET', resourcePath);
        return send(200, page('Thank you', `<p>Payment <span id="payment-id">${esc(String(status.body.id))}</span></p><p id="code">${esc(status.body.result.code)}</p><p id="description">${esc(status.body.result.description)}</p>`));
      }
      send(404, page('Not found', ''));
    } catch (err) {
      send(500, page('Error', `<pre>${esc(String(err))}</pre>`));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base, returns,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
