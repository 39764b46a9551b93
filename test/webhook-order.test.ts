/**
 * Events of one payment reach an endpoint in the order they happened, even when many payments move
 * at once, the worker sends a batch concurrently, the receiver answers slowly and in any order, and
 * fails often (so retries interleave with newer events). The expected order is the outbox's: the
 * order the events were written in their units of work.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { manualClock } from '../src/runtime/clock.ts';
import { orderingKeyOf } from '../src/webhooks/model.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { loopbackAllow } from './support/webhooks.ts';

const clock = manualClock(Date.now());
let gw: Gateway;
let receiver: Server;
/** Event ids in the order the receiver accepted them (answered 200), per endpoint. */
const accepted = new Map<string, string[]>();
let requests = 0;
let concurrent = 0;
let maxConcurrent = 0;

before(async () => {
  gw = await startGateway({ clock, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow, SWITCHYARD_WEBHOOK_BATCH: '64', SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS: '100000' } });
  receiver = createServer((req, res) => {
    const n = requests++;
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    const endpoint = req.url!.slice(1);
    const eventId = String(req.headers['x-notification-id'] ?? req.headers['webhook-id']);
    req.resume();
    // Slow and in no order: a later request may well be answered first; about a third fail.
    const fail = (n * 7919) % 10 < 3;
    setTimeout(() => {
      concurrent--;
      if (fail) { res.writeHead(500).end('try later'); return; }
      accepted.set(endpoint, [...(accepted.get(endpoint) ?? []), eventId]);
      res.end('OK');
    }, (n * 37) % 25);
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});
after(async () => { await gw?.close(); receiver?.close(); });

test('each payment\'s events arrive in the order they happened, under concurrency and failures, in both dialects', async () => {
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const endpoints: Record<string, string> = {};
  for (const dialect of ['opp', 'executions'] as const) {
    const r = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect, url: `${base}/${dialect}` });
    assert.ok(r.ok);
    endpoints[dialect] = r.value.endpointId;
  }
  // /v1: ten payments at once, each authorized, captured in two parts and refunded as fast as it can go.
  const oppFlows = Array.from({ length: 10 }, async () => {
    const pa = await pay(gw, { paymentType: 'PA' });
    let named = pa.body.id;
    for (const step of [{ paymentType: 'CP', amount: '50.00' }, { paymentType: 'CP', amount: '42.00' }, { paymentType: 'RF', amount: '10.00' }]) {
      const r = await opp(gw, 'POST', `/v1/payments/${named}`, { currency: 'EUR', ...step });
      assert.match(r.body.result.code, /^000\.100\.110$/, JSON.stringify(r.body.result));
      // The refund names the last capture, as refunds do.
      if (step.amount === '42.00') named = r.body.id;
    }
  });
  // Executions: five at once, created, authorized, captured and refunded.
  const token = await tokenOf(gw);
  const execFlows = Array.from({ length: 5 }, async (_, i) => {
    const inst = await instrument(gw, token, '4111111111111111', `order-holder-${i}`);
    const id = await execution(gw, token, `order-holder-${i}`);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '100.00', currency: 'EUR' }, final: false } })).status, 202);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '20.00', currency: 'EUR' } } })).status, 202);
  });
  await Promise.all([...oppFlows, ...execFlows]);

  // The worker runs until everything is delivered, the clock jumping over the retry ladders.
  for (let pass = 0; pass < 400; pass++) {
    await gw.app.webhooks.runOnce();
    const pending = await gw.app.storage.db.selectFrom('webhook_deliveries').select(['endpoint_id', 'ordering_key', 'seq', 'next_attempt_at'])
      .where('status', '=', 'pending').orderBy('seq').execute();
    if (pending.length === 0) break;
    // The next due retry of a delivery at the head of its line (the others wait for it, whatever their time).
    const heads = new Map<string, number>();
    for (const p of pending) {
      const key = `${p.endpoint_id} ${p.ordering_key}`;
      if (!heads.has(key)) heads.set(key, Number(p.next_attempt_at));
    }
    clock.set(Math.max(clock.now(), Math.min(...heads.values())));
  }
  const left = await gw.app.storage.db.selectFrom('webhook_deliveries').select(['status']).where('status', '!=', 'delivered').execute();
  assert.deepEqual(left, [], 'everything was delivered');
  assert.ok(maxConcurrent > 1, `deliveries were sent concurrently (at most ${maxConcurrent} at once)`);
  assert.ok(requests > accepted.size, 'some attempts failed and were retried');

  // The order they were written in: the outbox's (rowid on SQLite).
  const outbox = await sql<{ id: string; type: string; subject_id: string; payload: string }>`select id, type, subject_id, payload from outbox order by rowid`.execute(gw.app.storage.db);
  const deliveries = await gw.app.storage.db.selectFrom('webhook_deliveries').select(['event_id', 'endpoint_id']).execute();
  let keys = 0;
  for (const [dialect, endpointId] of Object.entries(endpoints)) {
    const sentHere = new Set(deliveries.filter((d) => d.endpoint_id === endpointId).map((d) => d.event_id));
    const written = new Map<string, string[]>();
    for (const e of outbox.rows.filter((r) => sentHere.has(r.id))) {
      const key = orderingKeyOf(e.type, e.subject_id, JSON.parse(e.payload));
      written.set(key, [...(written.get(key) ?? []), e.id]);
    }
    const got = accepted.get(dialect) ?? [];
    for (const [key, ids] of written) {
      const arrived = got.filter((id) => ids.includes(id));
      assert.deepEqual([...new Set(arrived)], ids, `${dialect} ${key}: arrived in the order written`);
      keys++;
    }
    assert.ok(written.size >= (dialect === 'opp' ? 10 : 5), `${dialect}: ${written.size} payments`);
    assert.ok([...written.values()].every((ids) => ids.length >= 3), `${dialect}: several events per payment`);
  }
  assert.ok(keys >= 15);
});
