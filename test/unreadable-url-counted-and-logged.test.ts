/**
 * A request whose URL has malformed percent-encoding is answered 400 with an X-Request-Id; it is
 * counted in `switchyard_http_requests_total` (as `unmatched`) and a log line carries its request id.
 * Refused by the router before any hook, it was neither counted nor logged: an operator handed the id
 * found nothing. So is a request Node's own parser refuses (headers too large).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const count400 = async () => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('switchyard_http_requests_total{') && l.includes('status="400"'))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
};

test('a 400 for a malformed URL is counted in switchyard_http_requests_total', async () => {
  const before = await count400();
  const r = await fetch(`${gw.url}/v1/payments/%zz`);
  assert.equal(r.status, 400);
  await r.text();
  assert.equal(await count400() - before, 1, 'the 400 answer is not counted in switchyard_http_requests_total');
});

test('a 400 for a malformed URL leaves a log line with its request id', async () => {
  const from = gw.logs.length;
  const r = await fetch(`${gw.url}/v1/payments/%zz`);
  assert.equal(r.status, 400);
  await r.text();
  const id = r.headers.get('x-request-id');
  assert.ok(id);
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(gw.logs.slice(from).some((l) => l.includes(id)), `no log line carries the answer's request id ${id}`);
});

test('a request whose headers are too large (431, refused by Node\'s parser) is counted and logged with its request id', async () => {
  const count431 = async () => (await (await fetch(`${gw.url}/metrics`)).text()).split('\n')
    .filter((l) => l.startsWith('switchyard_http_requests_total{') && l.includes('status="431"')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  const before = await count431();
  const from = gw.logs.length;
  const r = await fetch(`${gw.url}/v1/payments`, { headers: { 'x-big': 'a'.repeat(20_000) } }).catch(() => undefined);
  assert.equal(r?.status, 431);
  const id = r!.headers.get('x-request-id')!;
  await r!.text();
  assert.equal(await count431() - before, 1);
  await new Promise((res) => setTimeout(res, 200));
  assert.ok(gw.logs.slice(from).some((l) => l.includes(id)), `no log line carries ${id}`);
});
