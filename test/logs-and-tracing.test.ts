/**
 * Logs and tracing: one business line per operation (payment, merchant, dialect, outcome, PSP
 * account, duration) carrying the request and trace ids; a caller's `traceparent` joined and carried
 * on to the PSP (here another gateway, over the OPP connector, which logs the same trace id) and to
 * webhook deliveries; and the real process writes only JSON lines on stdout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { startGateway, tempDir, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startGatewayProcess } from './support/process.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const traceparent = `00-${traceId}-00f067aa0ba902b7-01`;
const traceHeader = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

let a: Gateway;
let b: Gateway;
let receiver: Server;
const received: IncomingHttpHeaders[] = [];

before(async () => {
  b = await startGateway();
  a = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8,::1/128' } });
  receiver = createServer((req, res) => { received.push(req.headers); req.resume(); req.on('end', () => res.end('OK')); });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});
after(async () => { await a?.close(); await b?.close(); receiver?.close(); });

const lines = (gw: Gateway) => gw.logs.map((l) => JSON.parse(l) as Record<string, any>);

async function payOpp(headers: Record<string, string>, card: string = testCard['card.number']) {
  const body = new URLSearchParams({ entityId: a.merchant.entityId, amount: '12.34', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.number': card });
  const res = await fetch(`${a.url}/v1/payments`, {
    method: 'POST', body, headers: { authorization: `Bearer ${a.merchant.accessToken}`, 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  return { res, body: await res.json() as any };
}

test('/v1: one business line per operation, with the request id and the caller\'s trace id', async () => {
  const { res, body } = await payOpp({ 'x-request-id': 'order-77-pay', traceparent }, '4000000000009995');
  assert.equal(res.headers.get('x-request-id'), 'order-77-pay');
  const mine = lines(a).filter((l) => l.event === 'payment.operation' && l.paymentId === body.id);
  assert.equal(mine.length, 1, 'one line for the one operation');
  const l = mine[0]!;
  assert.equal(l.merchantId, a.merchant.merchantId);
  assert.equal(l.dialect, 'opp');
  assert.equal(l.kind, 'sale');
  assert.equal(l.outcome, 'failed');
  assert.equal(l.reason, 'soft');
  assert.equal(l.resultCode, '800.100.155');
  assert.equal(typeof l.pspAccount, 'string');
  assert.ok(Number.isInteger(l.durationMs) && l.durationMs >= 0);
  assert.equal(l.requestId, 'order-77-pay');
  assert.equal(l.traceId, traceId);
  assert.ok(!JSON.stringify(l).includes('4000000000009995'), 'no card number');
  // Every line of that request carries the trace id, both access lines included.
  const access = lines(a).find((x) => x.requestId === 'order-77-pay' && x.msg === 'request completed');
  assert.equal(access?.traceId, traceId);
  const incoming = lines(a).filter((x) => x.requestId === 'order-77-pay' && x.msg === 'incoming request');
  assert.equal(incoming.length, 1);
  assert.equal(incoming[0]!.traceId, traceId, 'the incoming request line is written before the request\'s trace is known');
  assert.equal(incoming[0]!.req.method, 'POST');
});

test('a request without traceparent starts a trace of its own', async () => {
  const { body } = await payOpp({ 'x-request-id': 'no-trace-1' });
  const l = lines(a).find((x) => x.event === 'payment.operation' && x.paymentId === body.id)!;
  assert.equal(l.outcome, 'succeeded');
  assert.match(l.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(l.traceId, traceId);
});

test('executions: the authorization\'s line names the PSP account, and the trace reaches the PSP (another gateway)', async () => {
  await configureCascade(a, {
    'psp-b': { connector: 'opp', settings: { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId } },
  }, ['psp-b']);
  const token = await tokenOf(a);
  const inst = await instrument(a, token, '4111111111111111', 'trace-holder');
  const id = await execution(a, token, 'trace-holder');
  const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst), headers: { traceparent, 'x-request-id': 'auth-req-1' } });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const x = await poll(a, token, id, ['created', 'authorizeRequested']);
  assert.equal(x.status, 'authorized');
  const l = lines(a).find((y) => y.event === 'payment.operation' && y.dialect === 'executions' && y.kind === 'authorize' && y.traceId === traceId);
  assert.ok(l, 'the authorization\'s line carries the trace');
  assert.equal(l.outcome, 'succeeded');
  assert.equal(l.pspAccount, 'psp-b');
  assert.equal(l.attempts, 1);
  // Gateway B joined the trace A passed on: its own lines for that payment carry the same trace id.
  const atB = lines(b).filter((y) => y.traceId === traceId);
  assert.ok(atB.some((y) => y.event === 'payment.operation' && y.dialect === 'opp' && y.outcome === 'succeeded'), 'the PSP logged the same trace');
  assert.ok(atB.every((y) => y.requestId !== 'auth-req-1'), 'B made its own request id');
});

test('webhook deliveries carry a child traceparent of the request that caused the event', async () => {
  const added = await a.app.webhooks.addEndpoint({
    merchantId: a.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`,
  });
  assert.ok(added.ok);
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await payOpp({ traceparent: tp });
  await a.app.webhooks.runOnce();
  const traces = received.map((h) => traceHeader.exec(String(h.traceparent)));
  assert.ok(traces.every(Boolean), `every delivery has a traceparent: ${received.map((h) => h.traceparent)}`);
  const joined = traces.filter((m) => m![1] === '0af7651916cd43dd8448eb211c80319c');
  assert.equal(joined.length, 1, 'the payment\'s notification is in the trace (the activation message is not)');
  assert.notEqual(joined[0]![2], 'b7ad6b7169203331', 'a span of its own');
});

test('the gateway process writes only JSON lines on stdout; the banner and demo credentials go to stderr', async () => {
  const dataDir = tempDir();
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
  try {
    const r = await fetch(`${proc.url}/health`);
    assert.equal(r.status, 200);
    await new Promise((res) => setTimeout(res, 200));
    const stdout = proc.stdout().trim().split('\n');
    assert.ok(stdout.length >= 3, stdout.join('\n'));
    for (const line of stdout) {
      const parsed = JSON.parse(line);
      assert.equal(typeof parsed.level, 'number', line);
      assert.equal(typeof parsed.msg, 'string', line);
    }
    assert.ok(stdout.some((l) => JSON.parse(l).msg.startsWith('Switchyard listening on http://')));
    assert.ok(!proc.stdout().includes('accessToken'), 'secrets stay out of the log stream');
    assert.match(proc.output(), /Created the test-mode demo merchant/);
    assert.match(proc.output(), /accessToken [A-Za-z0-9_-]+/);
    assert.doesNotMatch(proc.stdout(), /Created the test-mode demo merchant/);
  } finally {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
