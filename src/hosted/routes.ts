import { emptyAnswer, jsonAnswer, object, str, textAnswer } from '../runtime/json-schema.ts';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { build } from 'esbuild';
import type { MerchantService } from '../merchants/service.ts';
import { checkoutIdPattern } from '../checkouts/model.ts';
import { isHost } from '../merchants/model.ts';

/**
 * `https://shop.example` or `http://127.0.0.1:8080`: exactly an origin of one host, nothing after
 * it. In frame-ancestors `https://*` would let every https page frame the field.
 */
const isWebOrigin = (s: string) => {
  try { const u = new URL(s); return ['http:', 'https:'].includes(u.protocol) && u.origin === s && isHost(u.hostname); } catch { return false; }
};

export interface HostedSdkDeps {
  merchants: MerchantService;
  /** The merchant a COPYandPAY checkout belongs to (undefined: no such checkout). */
  checkoutMerchant: (checkoutId: string) => Promise<string | undefined>;
  /** Where `/demo` on the gateway sends a visitor: the demo storefront, on its own origin. */
  demoUrl: string | undefined;
}

const entry = (name: string) => fileURLToPath(new URL(`./browser/${name}`, import.meta.url));

/** Bundles a browser script once per process (esbuild takes ~50 ms; the result is cached). */
function bundler(name: string): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= build({
      entryPoints: [entry(name)], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', minify: true, legalComments: 'none',
    }).then((r) => r.outputFiles[0]!.text);
    return cached;
  };
}

/** The COPYandPAY payment widget (`/v1/paymentWidgets.js`): it frames the same secure fields in checkout mode. */
export const widgetScript = bundler('widget.js');

const fieldPage = (type: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Secure field</title>
<style>html,body{margin:0;padding:0;background:transparent}input{box-sizing:border-box;width:100%;height:44px;border:0;outline:0;background:transparent;font:16px system-ui,sans-serif;color:#1d2433;padding:0 12px}#field-error{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}</style>
</head><body><input id="field" ${({
  cardNumber: 'autocomplete="cc-number" inputmode="numeric" placeholder="1234 1234 1234 1234" aria-label="Card number"',
  expiry: 'autocomplete="cc-exp" inputmode="numeric" placeholder="MM / YY" aria-label="Expiry date"',
  cvv: 'autocomplete="cc-csc" inputmode="numeric" placeholder="CVC" aria-label="Security code"',
} as Record<string, string>)[type]}>
<span id="field-error"></span>
<script src="/sdk/v1/field.js"></script></body></html>`;

/**
 * The secure-fields SDK: the merchant page's script, and the field pages it frames. A field page
 * may only be framed by (and only talks to) an origin the merchant registered.
 */
const fieldSchema = {
  summary: 'One secure field, framed by a registered origin of the merchant', tags: ['browser SDK'],
  // Checked by the handler, which answers a plain-text refusal the field frame can show.
  querystring: object({ type: { description: 'cardNumber, expiry or cvv.' }, merchant: { description: 'The merchant id.' }, parent: { description: 'The framing page\'s origin.' }, channel: { description: 'The SDK\'s channel id.' } }),
  response: { 200: textAnswer('The field page.', 'text/html'), 400: textAnswer('Why the field cannot be shown.', 'text/plain') },
};

export async function registerHostedSdkRoutes(app: FastifyInstance, deps: HostedSdkDeps): Promise<void> {
  const sdk = bundler('sdk.js');
  const field = bundler('field.js');
  const script = async (reply: FastifyReply, text: Promise<string>) =>
    reply.header('content-type', 'application/javascript; charset=utf-8').header('cache-control', 'public, max-age=300')
      .header('access-control-allow-origin', '*').header('x-content-type-options', 'nosniff').send(await text);

  app.get('/sdk/v1/switchyard.js', { schema: { summary: 'The secure-fields SDK for the merchant\'s checkout page', tags: ['browser SDK'], response: { 200: textAnswer('JavaScript.', 'application/javascript') } } }, async (_req, reply) => script(reply, sdk()));
  app.get('/sdk/v1/field.js', { schema: { summary: 'The script of one secure field', tags: ['browser SDK'], response: { 200: textAnswer('JavaScript.', 'application/javascript') } } }, async (_req, reply) => script(reply, field()));

  app.get<{ Querystring: Record<string, string> }>('/sdk/v1/field', { schema: fieldSchema }, async (req, reply) => {
    const { type, merchant, parent, channel } = req.query;
    const refuse = (text: string) => reply.code(400).header('content-type', 'text/plain; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'").send(text);
    // Each given once: a repeated one is an array here while the frame's script reads its first value
    // (`checkout` twice would be checked as an SDK field, the merchant's own, and then pay the checkout).
    for (const k of ['type', 'merchant', 'parent', 'channel', 'checkout']) {
      if (Object.hasOwn(req.query, k) && typeof req.query[k] !== 'string') return refuse(`${k} must be given once`);
    }
    if (typeof type !== 'string' || !['cardNumber', 'expiry', 'cvv'].includes(type)) return refuse('unknown field type');
    if (typeof channel !== 'string' || !/^[0-9a-zA-Z-]{8,64}$/.test(channel)) return refuse('missing channel');
    let origins: string[];
    if (Object.hasOwn(req.query, 'checkout')) {
      // COPYandPAY: the widget's fields pay one checkout, whose id is the credential; like the
      // platform's, they may sit on any shop page of a merchant that registered no origins, but only
      // on the one origin they were opened for; a merchant that registered some is framed by those.
      if (typeof req.query.checkout !== 'string' || !checkoutIdPattern.test(req.query.checkout)) return refuse('unknown checkout');
      if (typeof parent !== 'string' || !isWebOrigin(parent)) return refuse('parent must be a web origin');
      const owner = await deps.checkoutMerchant(req.query.checkout);
      if (owner === undefined) return refuse('unknown checkout');
      const registered = await deps.merchants.origins(owner);
      if (registered.length > 0 && !registered.includes(parent)) return refuse('this page is not registered to embed the checkout');
      origins = [parent];
    } else {
      const m = typeof merchant === 'string' && /^[0-9a-f]{32}$/.test(merchant) ? await deps.merchants.byId(merchant) : undefined;
      if (!m) return refuse('unknown merchant');
      // An origin stored before origins were held to one host is not framed by (nor framing) anything.
      origins = (await deps.merchants.origins(m.id)).filter(isWebOrigin);
      if (typeof parent !== 'string' || !origins.includes(parent)) return refuse('this page is not registered to embed the secure fields');
    }
    return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store')
      .header('content-security-policy', [
        "default-src 'none'", "script-src 'self'", "style-src 'unsafe-inline'", "connect-src 'self'",
        `frame-ancestors ${origins.join(' ')}`, "base-uri 'none'", "form-action 'none'",
      ].join('; '))
      .header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff')
      .send(fieldPage(type));
  });

  app.get('/demo', { schema: { summary: 'The demo storefront (when it runs)', tags: ['demo'], response: { 302: emptyAnswer('To the demo storefront.'), 404: jsonAnswer('The demo is not running.', object({ error: str() }, ['error'])) } } }, async (_req, reply) => {
    if (!deps.demoUrl) return reply.code(404).send({ error: 'the demo storefront is not running (SWITCHYARD_DEMO_PORT=0)' });
    return reply.redirect(deps.demoUrl, 302);
  });
}
