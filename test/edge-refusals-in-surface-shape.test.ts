/**
 * Failures met before any route answers (a URL the router cannot read, a request too large or too
 * slow for Node's parser, a request arriving while the gateway drains) are answered in the shape of
 * the surface the path belongs to, with a request id, never in the framework's own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startGateway, type Gateway } from './support/harness.ts';
import { tokenOf, wf } from './support/executions.ts';

const adminToken = 'admin-token-0123456789abcdefghij';

/** Raw HTTP over a socket: what the server wrote, split into status, headers and body. */
function parse(answer: string) {
  const [head = '', ...rest] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n') };
}
function open(gw: Gateway) {
  const { hostname, port } = new URL(gw.url);
  const s: Socket = connect(Number(port), hostname);
  let text = '';
  s.on('data', (d) => { text += String(d); });
  s.on('error', () => undefined);
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  return { s, text: () => text, closed, ready: new Promise<void>((r) => s.once('connect', () => r())) };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function assertOppEnvelope(r: ReturnType<typeof parse>) {
  const body = JSON.parse(r.body);
  assert.equal(typeof body.result?.code, 'string', `a /v1 result envelope, not ${r.body}`);
  assert.ok(!/statusCode/.test(r.body), r.body);
  assert.ok(r.headers.get('x-request-id'), 'X-Request-Id header');
}
function assertExecutionsError(r: ReturnType<typeof parse>) {
  const body = JSON.parse(r.body);
  assert.ok(Array.isArray(body.errors), `an executions errors[] body, not ${r.body}`);
  assert.ok(r.headers.get('x-request-id'), 'X-Request-Id header');
}

describe('framework-level failures answer in the surface\'s own shape', () => {
  let gw: Gateway;
  let token: string;
  before(async () => {
    gw = await startGateway({ env: { SWITCHYARD_ADMIN_TOKEN: adminToken, SWITCHYARD_REQUEST_TIMEOUT_MS: '1000', SWITCHYARD_HEADERS_TIMEOUT_MS: '800' } });
    token = await tokenOf(gw);
  });
  after(async () => { await gw?.close(); });

  test('/admin (origins, PSP accounts): a malformed percent-encoding answers {error: {code, message}}, as /admin/api does', async () => {
    const res = await fetch(`${gw.url}/admin/merchants/%E0%A4%A/origins`, { headers: { authorization: `Bearer ${adminToken}` } });
    const text = await res.text();
    assert.equal(res.status, 400);
    const body = JSON.parse(text);
    assert.equal(typeof body.error, 'object', `admin error shape {error:{code,message}}, got ${text}`);
    assert.equal(body.error.code, 'bad_request');
    assert.equal(typeof body.error.message, 'string');
  });

  test('hosted and dashboard pages: a malformed percent-encoding answers an HTML page, not the executions dialect\'s JSON', async () => {
    for (const path of ['/hosted/3ds/%E0%A4%A', '/dashboard/payments/%E0%A4%A']) {
      const res = await fetch(gw.url + path, { redirect: 'manual' });
      const text = await res.text();
      assert.equal(res.status, 400, path);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/, `${path}: ${text}`);
    }
  });

  test('/v1 and executions: an over-long URL (past Node\'s header limit) answers 431 in the dialect\'s shape with a request id', async () => {
    for (const [path, check] of [
      [`/v1/payments/abc?entityId=${gw.merchant.entityId}&x=${'a'.repeat(20_000)}`, assertOppEnvelope],
      [`${wf}/abc?x=${'a'.repeat(20_000)}`, assertExecutionsError],
    ] as const) {
      const c = open(gw);
      await c.ready;
      c.s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      await Promise.race([c.closed, sleep(3000)]);
      c.s.destroy();
      const r = parse(c.text());
      assert.equal(r.status, 431, c.text().slice(0, 200));
      check(r);
    }
  });

  test('/v1: a request whose body does not arrive within the request timeout answers 408 in the result envelope', async () => {
    const c = open(gw);
    await c.ready;
    c.s.write(`POST /v1/payments HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nentityId=`);
    await Promise.race([c.closed, sleep(5000)]);
    c.s.destroy();
    const r = parse(c.text());
    assert.equal(r.status, 408, c.text());
    assertOppEnvelope(r);
  });
});

describe('requests arriving while the gateway drains at shutdown', () => {
  test('/v1 and executions: the 503 is in the dialect\'s own shape with a request id, not Fastify\'s {statusCode,error,message}', async () => {
    const gw = await startGateway();
    const token = await tokenOf(gw);
    const busy = open(gw);
    const v1 = open(gw);
    const exec = open(gw);
    await Promise.all([busy.ready, v1.ready, exec.ready]);
    // A request still under way keeps the server closing (its body arrives slowly).
    busy.s.write('POST /v1/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nentityId=');
    // Two clients whose requests have begun (their connections are not idle).
    v1.s.write(`GET /v1/payments/abc?entityId=${gw.merchant.entityId} HTTP/1.1\r\nHost: x\r\n`);
    exec.s.write(`GET ${wf}/abc HTTP/1.1\r\nHost: x\r\n`);
    await sleep(200);
    const closing = gw.close();
    await sleep(500);
    v1.s.write(`Authorization: Bearer ${gw.merchant.accessToken}\r\n\r\n`);
    exec.s.write(`Authorization: Bearer ${token}\r\n\r\n`);
    await sleep(500);
    busy.s.write('x'.repeat(91));
    const a = parse(v1.text());
    const b = parse(exec.text());
    for (const c of [busy, v1, exec]) c.s.destroy();
    await closing;
    assert.equal(a.status, 503, v1.text());
    assertOppEnvelope(a);
    assert.equal(b.status, 503, exec.text());
    assertExecutionsError(b);
  });
});
