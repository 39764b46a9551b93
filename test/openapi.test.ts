/**
 * The OpenAPI documents against the running gateway: every registered route (whoever registers
 * it, now or later) is documented in its surface's document, and every answer the flows below get
 * matches the schema documented for its route, status and media type.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { openApiPath, routeCatalog, surfaces, undocumented } from '../src/http/openapi.ts';
import { ajv } from '../src/runtime/json-schema.ts';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

let gw: Gateway;
const docs = new Map<string, Doc>();
/** Every exchange with the gateway while the flows run. */
const seen: { method: string; path: string; status: number; type: string; text: string }[] = [];
const realFetch = globalThis.fetch;

before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8,::1/128' } });
  for (const s of surfaces) {
    const r = await realFetch(`${gw.url}/openapi/${s}.json`);
    assert.equal(r.status, 200);
    docs.set(s, await r.json() as Doc);
  }
  globalThis.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin === new URL(gw.url).origin) {
      const text = await res.clone().text();
      seen.push({ method: (init?.method ?? 'GET').toUpperCase(), path: url.pathname, status: res.status, type: res.headers.get('content-type') ?? '', text });
    }
    return res;
  };
});
after(async () => { globalThis.fetch = realFetch; await gw?.close(); });

test('every registered route has a summary and documented answers, and is in its surface\'s document', () => {
  const routes = gw.app.server.routeCatalog.routes();
  assert.ok(routes.length > 40, `${routes.length} routes`);
  assert.deepEqual(undocumented(routes), [], 'routes without a schema (summary + response): give them one');
  const missing = routes.filter((r) => docs.get(r.surface)!.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] === undefined).map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(missing, []);
});

test('a route added without a schema, by any plugin, is reported', async () => {
  const app = Fastify();
  const catalog = routeCatalog(app);
  app.get('/documented', { schema: { summary: 'x', response: { 200: { description: 'ok' } } } as object }, async () => 'ok');
  await app.register(async (scope) => { scope.post('/admin/api/later', async () => 'later'); }, {});
  await app.ready();
  assert.deepEqual(undocumented(catalog.routes()), ['POST /admin/api/later']);
  await app.close();
});

test('each document is OpenAPI 3.1 with its surface\'s paths only', () => {
  assert.ok(Object.keys(docs.get('v1')!.paths).every((p) => p.startsWith('/v1/')));
  assert.ok(Object.keys(docs.get('admin')!.paths).every((p) => p.startsWith('/admin/')));
  assert.ok(docs.get('executions')!.paths['/merchant/workflows/{code}/executions/{id}/authorize']?.post);
  assert.ok(docs.get('public')!.paths['/docs']?.get);
  // The /v1 form is documented from the validators' own field table, result codes included.
  const pay = docs.get('v1')!.paths['/v1/payments']!.post as unknown as { requestBody: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>> } }> } };
  const card = pay.requestBody.content['application/x-www-form-urlencoded']!.schema.properties['card.number']!;
  assert.equal(card['x-missing-code'], '100.100.100');
});

test('the documents stand on their own: no text sends a reader to a section of a document they do not have', () => {
  for (const [s, doc] of docs) {
    const cited = JSON.stringify(doc).match(/reference §[0-9.]+/g);
    assert.equal(cited, null, `${s}.json cites ${cited?.join(', ')}`);
  }
});

test('/docs is one static page naming every surface, with no script and nothing from elsewhere', async () => {
  const r = await realFetch(`${gw.url}/docs`);
  assert.equal(r.status, 200);
  const html = await r.text();
  for (const s of surfaces) assert.ok(html.includes(`/openapi/${s}.json`));
  assert.ok(html.includes('/v1/payments/{id}') && html.includes('/admin/api/webhooks/endpoints'));
  assert.ok(!/<script|https?:\/\/(?!shop\.example)/i.test(html.replace(/<a href="\/openapi[^"]*"/g, '')), 'no script, no outside URL');
  assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
});

test('the answers of the usual flows match their documented schemas', async () => {
  // /v1: payment, capture, status, query, refusals, registration.
  const pa = await pay(gw, { paymentType: 'PA', merchantTransactionId: 'openapi-1' });
  assert.equal(pa.status, 200);
  await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
  await opp(gw, 'POST', `/v1/payments/${'0'.repeat(32)}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
  await opp(gw, 'GET', `/v1/payments/${pa.body.id}`);
  await opp(gw, 'GET', `/v1/query/${pa.body.id}`);
  await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'openapi-1' });
  await opp(gw, 'GET', '/v1/resultcodes');
  await pay(gw, { amount: 'x' });
  await pay(gw, {}, );
  await opp(gw, 'GET', `/v1/payments/${pa.body.id}`, {}, null);
  const reg = await opp(gw, 'POST', '/v1/registrations', { paymentBrand: 'VISA', 'card.number': '4200000000000000', 'card.expiryMonth': '05', 'card.expiryYear': '2034' });
  await opp(gw, 'GET', `/v1/registrations/${reg.body.id}`);
  await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { paymentType: 'DB', amount: '5.00', currency: 'EUR' });
  await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
  // Executions: token, instrument, execution, authorize, long poll, list, capture, refusals.
  const token = await tokenOf(gw);
  await realFetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': 'wrong' } }).then(async (r) => seen.push({ method: 'POST', path: `/auth/token/${gw.merchant.clientId}`, status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() }));
  const inst = await instrument(gw, token);
  await call(gw, 'GET', `/payment/instruments/${inst}`, { token });
  const id = await execution(gw, token);
  await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
  await poll(gw, token, id, ['authorizePending', 'created']);
  await call(gw, 'GET', `${wf}?limit=5`, { token });
  await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: {} });
  await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: 'x', currency: 'EUR' } } });
  await call(gw, 'GET', `${wf}/${id}`, { token: 'nope' });
  await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { a: 1 } } });
  // Admin and public.
  const admin = { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' };
  await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, { headers: admin });
  await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`, { method: 'POST', headers: admin, body: JSON.stringify({ origin: 'https://shop.example' }) });
  await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/psp-accounts`, { headers: admin });
  await fetch(`${gw.url}/admin/merchants/${'f'.repeat(32)}/origins`, { headers: admin });
  await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/origins`);
  await fetch(`${gw.url}/admin/api/webhooks/endpoints`, { headers: admin });
  // An endpoint made, read, listed and disabled (an empty list proves nothing of the endpoint's schema).
  const made = await fetch(`${gw.url}/admin/api/webhooks/endpoints`, { method: 'POST', headers: admin, body: JSON.stringify({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/notify' }) });
  const endpointId = ((await made.json()) as { endpointId: string }).endpointId;
  assert.match(endpointId, /^[0-9a-f]{32}$/);
  await fetch(`${gw.url}/admin/api/webhooks/endpoints/${endpointId}`, { headers: admin });
  await fetch(`${gw.url}/admin/api/webhooks/endpoints?merchantId=${gw.merchant.merchantId}`, { headers: admin });
  await fetch(`${gw.url}/admin/api/webhooks/endpoints/${endpointId}/rotate`, { method: 'POST', headers: admin, body: '{}' });
  await fetch(`${gw.url}/admin/api/webhooks/endpoints/${endpointId}/disable`, { method: 'POST', headers: admin, body: '{}' });
  await fetch(`${gw.url}/admin/api/webhooks/deliveries?limit=0`, { headers: admin });
  await fetch(`${gw.url}/admin/api/ledger/balances?merchantId=${gw.merchant.merchantId}`, { headers: admin });
  await fetch(`${gw.url}/admin/api/ledger/payments/${pa.body.id}`, { headers: admin });
  await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/psp-accounts/nope`, { headers: admin });
  await fetch(`${gw.url}/admin/api/ledger/postings?from=2026-01-01&to=2026-01-02`, { headers: admin });
  await fetch(`${gw.url}/admin/api/ledger/postings?from=2026-01-01&to=2026-01-02&format=csv`, { headers: admin });
  const badFormat = await fetch(`${gw.url}/admin/api/ledger/postings?from=2026-01-01&to=2026-01-02&format=xml`, { headers: admin });
  assert.equal(((await badFormat.json()) as { error: { code: string } }).error.code, 'format_invalid', 'a schema refusal keeps the route\'s own code');
  await fetch(`${gw.url}/admin/api/ledger/postings?to=2026-01-02`, { headers: admin });
  await fetch(`${gw.url}/admin/api/ledger/discrepancies?status=open`, { headers: admin });
  await fetch(`${gw.url}/admin/api/ledger/discrepancies?status=x`, { headers: admin });
  const noAccount = await fetch(`${gw.url}/admin/api/ledger/reconciliations`, { method: 'POST', headers: admin, body: JSON.stringify({ report: {} }) });
  assert.equal(((await noAccount.json()) as { error: { code: string } }).error.code, 'psp_account_required');
  await fetch(`${gw.url}/admin/api/ledger/discrepancies/${'0'.repeat(32)}/resolve`, { method: 'POST', headers: admin, body: JSON.stringify({ note: '' }) });
  await fetch(`${gw.url}/admin/api/ledger/discrepancies/${'0'.repeat(32)}/resolve`, { method: 'POST', headers: admin, body: JSON.stringify({ note: 'checked' }) });
  await fetch(`${gw.url}/admin/api/payments?limit=2`, { headers: admin });
  await fetch(`${gw.url}/admin/api/payments?status=nope`, { headers: admin });
  await fetch(`${gw.url}/admin/api/payments/${pa.body.id}`, { headers: admin });
  await fetch(`${gw.url}/admin/api/payments/${'0'.repeat(32)}`, { headers: admin });
  // COPYandPAY: a checkout, the widget's view and payment, the merchant's status call, the script.
  const checkout = await opp(gw, 'POST', '/v1/checkouts', { amount: '12.00', currency: 'EUR', paymentType: 'DB' });
  await opp(gw, 'POST', '/v1/checkouts', { amount: '12.00', currency: 'EUR', paymentType: 'CD' });
  await opp(gw, 'GET', `/v1/checkouts/${checkout.body.id}/payment`);
  await fetch(`${gw.url}/v1/checkouts/${checkout.body.id}/widget`);
  await fetch(`${gw.url}/v1/checkouts/${checkout.body.id}/payment`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ shopperResultUrl: 'https://shop.example/done', 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' }),
  });
  await fetch(`${gw.url}/v1/checkouts/${checkout.body.id}/widget`);
  await fetch(`${gw.url}/v1/checkouts/${'0'.repeat(32)}/widget`);
  await fetch(`${gw.url}/v1/paymentWidgets.js?checkoutId=${checkout.body.id}`);
  await pay(gw, { paymentType: 'CD' });
  // The dashboard: its pages answer HTML or send the browser to sign in.
  for (const p of ['/dashboard/sign-in', '/dashboard/payments', '/dashboard']) await fetch(gw.url + p, { redirect: 'manual' });
  await fetch(`${gw.url}/dashboard/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.example&password=x&_csrf=x' });
  for (const p of ['/health', '/ready', '/metrics', '/docs', '/openapi/v1.json', '/sdk/v1/switchyard.js', '/hosted/return?id=x']) await fetch(gw.url + p);

  const wrong: string[] = [];
  let checked = 0;
  for (const x of seen) {
    const surface = [...docs.keys()].find((s) => Object.keys(docs.get(s)!.paths).some((p) => match(p, x.path)));
    assert.ok(surface, `${x.method} ${x.path} is in a document`);
    const path = Object.keys(docs.get(surface)!.paths).filter((p) => match(p, x.path)).sort((a, b) => b.split('{').length - a.split('{').length).at(-1)!;
    const op = docs.get(surface)!.paths[path]![x.method.toLowerCase()];
    if (!op) { wrong.push(`${x.method} ${path}: method not documented`); continue; }
    const answer = op.responses[String(x.status)];
    if (!answer) { wrong.push(`${x.method} ${path}: status ${x.status} not documented`); continue; }
    const mediaType = x.type.split(';')[0]!.trim();
    if (!answer.content) { if (x.text !== '') wrong.push(`${x.method} ${path} ${x.status}: a body where none is documented`); continue; }
    const documented = answer.content[mediaType];
    if (!documented) { wrong.push(`${x.method} ${path} ${x.status}: ${mediaType} not documented`); continue; }
    checked++;
    if (mediaType !== 'application/json') continue;
    const validate = ajv.compile(documented.schema);
    if (!validate(JSON.parse(x.text))) wrong.push(`${x.method} ${path} ${x.status}: ${ajv.errorsText(validate.errors)}`);
  }
  assert.deepEqual(wrong, []);
  assert.ok(checked > 40, `${checked} answers checked`);
});

/** Whether a documented path template matches a request path. */
function match(template: string, path: string): boolean {
  const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\\{path\\\}|\{path\}$/, '.+').replace(/\{[^}]+\}/g, '[^/]+')}$`);
  return re.test(path);
}
