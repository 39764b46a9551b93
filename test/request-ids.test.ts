import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { call } from './support/executions.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw.close(); });

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const linesOf = (id: string) => gw.logs.filter((l) => l.includes(id)).map((l) => JSON.parse(l));
/** The response can reach the client before the server's log line for it is written: wait for the line, briefly. */
async function lineOf(id: string, msg: string): Promise<any> {
  for (let i = 0; i < 50; i++) {
    const line = linesOf(id).find((l) => l.msg === msg);
    if (line) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

test('a well-formed X-Request-Id is echoed; an unsafe one is replaced by a fresh id', async () => {
  const sent = await fetch(`${gw.url}/health`, { headers: { 'x-request-id': 'lb-7f3a.42' } });
  assert.equal(sent.headers.get('x-request-id'), 'lb-7f3a.42');
  const made = await fetch(`${gw.url}/health`);
  assert.match(made.headers.get('x-request-id')!, uuid);
  const unsafe = await fetch(`${gw.url}/health`, { headers: { 'x-request-id': 'x'.repeat(200) } });
  assert.match(unsafe.headers.get('x-request-id')!, uuid);
});

test('/v1: the id comes back in the header of an error, the envelope keeps its shape, and the request\'s log lines carry it', async () => {
  // Not a long digit run: one that passes the card-number check is replaced, by design.
  const id = `v1-${randomUUID()}`;
  const res = await fetch(`${gw.url}/v1/payments`, {
    method: 'POST', headers: { 'x-request-id': id, 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${gw.merchant.accessToken}` },
    body: new URLSearchParams({ entityId: gw.merchant.entityId, amount: 'x', currency: 'EUR', paymentType: 'DB' }).toString(),
  });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('x-request-id'), id);
  const body = await res.json() as any;
  assert.match(body.result.code, /^200\.300\./);
  assert.ok(body.ndc && body.buildNumber && body.timestamp);
  const lines = linesOf(id);
  assert.ok(lines.length >= 2, 'incoming and completed lines');
  assert.ok(lines.every((l) => l.requestId === id));
  // A success keeps the envelope too, and its header differs per request.
  const ok = await opp(gw, 'POST', '/v1/payments', { amount: '1.00', currency: 'EUR', paymentType: 'DB', 'card.number': '4200000000000000', 'card.holder': 'J J', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', paymentBrand: 'VISA' });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get('x-request-id')!, uuid);
  assert.equal(ok.body.requestId, undefined);
});

test('executions: every error item names the request (meta.requestId = header); the error id and request id are both in a log line', async () => {
  const id = `ex-${randomUUID()}`;
  const r = await call(gw, 'GET', '/merchant/workflows/payment-acceptance/executions/nope', { headers: { 'x-request-id': id } });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('x-request-id'), id);
  assert.equal(r.body.errors[0].meta.requestId, id);
  assert.match(r.body.errors[0].id, uuid);
  const refused = await lineOf(id, 'request refused');
  assert.ok(refused, 'a refusal line');
  assert.equal(refused.errorId, r.body.errors[0].id);
  // A made id works the same way.
  const made = await call(gw, 'GET', '/no/such/route');
  assert.equal(made.status, 404);
  assert.equal(made.body.errors[0].meta.requestId, made.headers.get('x-request-id'));
});

test('a URL the router cannot read is answered with the id too, in either dialect', async () => {
  const ex = await fetch(`${gw.url}/merchant/%E0%A4%A`, { headers: { 'x-request-id': 'bad-url-1' } });
  assert.equal(ex.status, 400);
  assert.equal(ex.headers.get('x-request-id'), 'bad-url-1');
  assert.equal(((await ex.json()) as any).errors[0].meta.requestId, 'bad-url-1');
  const v1 = await fetch(`${gw.url}/v1/payments/%E0%A4%A`, { headers: { 'x-request-id': 'bad-url-2' } });
  assert.equal(v1.status, 400);
  assert.equal(v1.headers.get('x-request-id'), 'bad-url-2');
});

test('a service\'s own log line, written while it works for a request, carries the request id', async () => {
  const acquirer = createSimulatedAcquirer();
  // A PSP connection that breaks: the payment engine logs it (its own logger, no HTTP in sight).
  const failing = await startGateway({ processor: { ...acquirer, execute: async () => { throw new Error('connection reset'); } } });
  try {
    const r = await fetch(`${failing.url}/v1/payments`, {
      method: 'POST', headers: { 'x-request-id': 'rid-psp-1', 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${failing.merchant.accessToken}` },
      body: new URLSearchParams({ entityId: failing.merchant.entityId, amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard }).toString(),
    });
    assert.equal(r.headers.get('x-request-id'), 'rid-psp-1');
    const line = failing.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'psp call failed');
    assert.ok(line, 'the engine logged the failed PSP call');
    assert.equal(line.requestId, 'rid-psp-1');
  } finally {
    await failing.close();
  }
});
