/** `/metrics`: the Prometheus text format, moving with traffic, labelled by patterns and never by ids or card data. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import type { Connector } from '../src/processors/connector.ts';
import { opp, pay, postgresAvailable, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { admin, freePort, loopbackAllow } from './support/webhooks.ts';

interface Sample { name: string; labels: Record<string, string>; value: number }

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a line of the text format: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of m[2]?.matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of a metric's samples whose labels include `where`. */
function total(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

async function scrape(gw: Gateway, headers: Record<string, string> = {}) {
  const r = await fetch(`${gw.url}/metrics`, { headers });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type') ?? '', text };
}

describe('/metrics under load', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '2000' } }); });
  after(() => gw.close());

  test('requests, payments by dialect and outcome, PSP calls and commits all move, with the right labels', async () => {
    const first = await scrape(gw);
    assert.equal(first.status, 200);
    assert.match(first.type, /^text\/plain; version=0\.0\.4/);
    const before = parse(first.text);

    const ok1 = await pay(gw);
    const ok2 = await pay(gw);
    assert.equal(ok1.status, 200);
    assert.equal(ok2.status, 200);
    const declined = await pay(gw, { 'customParameters[forceResultCode]': '800.100.151' });
    assert.equal(declined.status, 400);
    const pa = await pay(gw, { paymentType: 'PA' });
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
    assert.equal(cp.status, 200, JSON.stringify(cp.body));
    assert.equal((await opp(gw, 'GET', `/v1/payments/${ok1.body.id}`)).status, 200);
    // A path no route knows, with a card number in it: counted, but under no label of its own.
    assert.equal((await fetch(`${gw.url}/nowhere/${testCard['card.number']}`)).status, 404);

    const token = await tokenOf(gw);
    const inst = await instrument(gw, token);
    const exec = await execution(gw, token);
    assert.equal((await call(gw, 'POST', `${wf}/${exec}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
    assert.equal((await poll(gw, token, exec, ['created', 'authorizeRequested'])).status, 'authorized');

    const second = await scrape(gw);
    const after = parse(second.text);
    const delta = (name: string, where: Record<string, string> = {}) => total(after, name, where) - total(before, name, where);

    assert.equal(delta('switchyard_http_requests_total', { route: '/v1/payments', method: 'POST', status: '200' }), 3);
    assert.equal(delta('switchyard_http_requests_total', { route: '/v1/payments', method: 'POST', status: '400' }), 1);
    assert.equal(delta('switchyard_http_requests_total', { route: '/v1/payments/:id', method: 'POST', status: '200' }), 1);
    assert.equal(delta('switchyard_http_requests_total', { route: '/v1/payments/:id', method: 'GET', status: '200' }), 1);
    assert.equal(delta('switchyard_http_requests_total', { route: 'unmatched', status: '404' }), 1);
    assert.equal(delta('switchyard_http_request_duration_seconds_count', { route: '/v1/payments', method: 'POST' }), 4);
    assert.equal(delta('switchyard_http_request_duration_seconds_count', { route: '/merchant/workflows/:code/executions/:id/authorize', method: 'POST', status: '200' }), 1);

    const op = 'switchyard_payment_operations_total';
    assert.equal(delta(op, { channel: 'opp', kind: 'sale', status: 'succeeded', psp_account: 'default' }), 2);
    assert.equal(delta(op, { channel: 'opp', kind: 'sale', status: 'failed', psp_account: 'default' }), 1);
    const reasons = after.filter((s) => s.name === op && s.labels.status === 'failed').map((s) => s.labels.reason);
    assert.ok(reasons.every((r) => r !== ''), 'a failed operation names its reason');
    assert.equal(delta(op, { channel: 'opp', kind: 'authorize', status: 'succeeded' }), 1);
    assert.equal(delta(op, { channel: 'opp', kind: 'capture', status: 'succeeded' }), 1);
    assert.equal(delta(op, { channel: 'executions', kind: 'authorize', status: 'succeeded' }), 1);

    assert.equal(delta('switchyard_psp_call_duration_seconds_count', { connector: 'simulator', outcome: 'approved' }), 5);
    assert.equal(delta('switchyard_psp_call_duration_seconds_count', { connector: 'simulator', outcome: 'declined' }), 1);
    assert.ok(delta('switchyard_unit_of_work_duration_seconds_count', { outcome: 'commit' }) >= 10, 'each payment commits at least twice');
    const units = delta('switchyard_unit_of_work_duration_seconds_count', { outcome: 'commit' });
    const commits = delta('switchyard_commit_batch_size_count', {});
    assert.ok(commits >= 1 && commits <= units, `${units} committed units of work in ${commits} database commits`);
    assert.equal(delta('switchyard_commit_batch_size_sum', {}), units, 'every committed unit of work was carried by exactly one commit');
    assert.equal(delta('switchyard_commit_duration_seconds_count', {}), commits);
    // On SQLite every commit is flushed off the event loop before it is answered.
    assert.ok(delta('switchyard_wal_flush_duration_seconds_count', {}) >= commits, 'each database commit was flushed');
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'switchyard_unknown_outcomes_waiting', 'switchyard_outbox_lag_seconds',
      'switchyard_webhook_deliveries_pending', 'switchyard_webhook_oldest_pending_seconds', 'switchyard_long_polls_waiting']) {
      assert.ok(after.some((s) => s.name === name), `${name} is exposed`);
    }

    // No id, credential or card data anywhere in the scrape, and every route label is a pattern.
    const secrets = [ok1.body.id, ok2.body.id, pa.body.id, exec, inst, gw.merchant.entityId, gw.merchant.merchantId, gw.merchant.clientId,
      testCard['card.number'], testCard['card.number'].slice(-4) + '"', testCard['card.holder']];
    for (const s of secrets) assert.ok(!second.text.includes(s), `${s} does not appear in the scrape`);
    const routes = new Set(after.filter((s) => s.labels.route !== undefined).map((s) => s.labels.route!));
    for (const r of routes) assert.ok(r === 'unmatched' || (r.startsWith('/') && !/[0-9a-f]{16}|\d{12}/.test(r)), `route label ${r} is a pattern`);
  });
});

for (const store of ['sqlite', 'postgres'] as const) describe(`/metrics backlog gauges (${store})`, () => {
  const clock = manualClock(Date.now());
  let gw: Gateway;
  // A PSP that never answers: every call ends unknown at the PSP timeout.
  const silent: Connector = {
    name: 'silent', operations: ['authorize', 'sale', 'capture', 'void', 'refund', 'rebill', 'credit'] as Connector['operations'],
    execute: () => new Promise(() => {}), lookup: async () => undefined,
  };
  let skip = false;
  before(async () => {
    skip = store === 'postgres' && !(await postgresAvailable());
    if (skip) return;
    gw = await startGateway({ store, clock, processor: silent, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200', SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  });
  after(async () => { if (!skip) await gw.close(); });

  test('unknown outcomes waiting, outbox lag and webhook backlog are read from the store on each scrape', async (t) => {
    if (skip) return t.skip('PostgreSQL not reachable');
    const gauges = async () => {
      const s = parse((await scrape(gw)).text);
      return {
        unknown: total(s, 'switchyard_unknown_outcomes_waiting'), outboxLag: total(s, 'switchyard_outbox_lag_seconds'),
        pending: total(s, 'switchyard_webhook_deliveries_pending'), oldest: total(s, 'switchyard_webhook_oldest_pending_seconds'),
        timeouts: total(s, 'switchyard_psp_call_duration_seconds_count', { connector: 'silent', outcome: 'timeout' }),
        unknownOps: total(s, 'switchyard_payment_operations_total', { channel: 'opp', status: 'unknown' }),
      };
    };
    assert.deepEqual(await gauges(), { unknown: 0, outboxLag: 0, pending: 0, oldest: 0, timeouts: 0, unknownOps: 0 });

    // Nobody listens on this port: the delivery stays pending after its first try.
    const port = await freePort();
    const ep = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/notify` });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    clock.advance(1000);
    const r = await pay(gw);
    assert.match(r.body.result.code, /^\d{3}\.\d{3}\.\d{3}$/, 'the merchant gets an answer at the PSP timeout');
    const fresh = await gauges();
    assert.equal(fresh.unknown, 0, 'an unknown outcome younger than the PSP timeout is not yet waiting');
    assert.equal(fresh.timeouts, 1);
    assert.equal(fresh.unknownOps, 1);
    assert.ok(fresh.pending >= 1, 'the activation message waits for delivery');
    assert.ok(fresh.oldest >= 1, 'aged by the clock since the endpoint was added');

    clock.advance(5000);
    const later = await gauges();
    assert.equal(later.unknown, 1);
    assert.ok(later.outboxLag >= 5, `outbox lag ${later.outboxLag}`);
    assert.ok(later.oldest >= 6, `oldest pending delivery ${later.oldest}`);

    await gw.app.webhooks.runOnce();
    const fanned = await gauges();
    assert.equal(fanned.outboxLag, 0, 'everything fanned out');
    assert.ok(fanned.pending >= 2, 'the payment event joins the activation message, neither delivered');
  });
});

describe('/metrics with a token', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_METRICS_TOKEN: 'scrape-secret-0123456789abcdef' } }); });
  after(() => gw.close());

  test('SWITCHYARD_METRICS_TOKEN requires the bearer; the right one gets the scrape', async () => {
    assert.equal((await scrape(gw)).status, 401);
    assert.equal((await scrape(gw, { authorization: 'Bearer wrong' })).status, 401);
    const ok = await scrape(gw, { authorization: 'Bearer scrape-secret-0123456789abcdef' });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /switchyard_http_requests_total\{route="\/metrics",method="GET",status="401"\} 2/);
  });
});
