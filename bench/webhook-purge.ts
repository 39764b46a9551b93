/**
 * Webhook history purge benchmark (the hourly `purge-webhook-history` job): a SQLite store holding
 * BENCH_HISTORY old delivered events (default 200,000: an event, its delivery and one attempt each)
 * beside a day's worth of recent ones, purged by the job's own code (SWITCHYARD_WEBHOOK_RETENTION_DAYS
 * 30) while 16 clients take payments. Prints the purge's rows per second and the payments' rate and
 * latency before and during the purge.
 *
 *   node bench/webhook-purge.ts
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { pay, tempDir } from '../test/support/harness.ts';

const history = Number(process.env.BENCH_HISTORY ?? 200_000);
const recent = Math.round(history / 30);
const day = 86_400_000;
const dataDir = tempDir('switchyard-bench-');
const silent = createLogger({ level: 'warn', destination: new Writable({ write(_c, _e, cb) { cb(); } }) as never });
const app = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' }), { logger: silent });
const url = await app.server.listen({ port: 0, host: '127.0.0.1' });
const merchant = await app.merchants.create({ name: 'Bench' });
const gw = { url, merchant: { accessToken: merchant.accessToken, entityId: merchant.entityId } } as Parameters<typeof pay>[0];
const endpoint = await app.webhooks.addEndpoint({ merchantId: merchant.merchantId, dialect: 'executions', url: 'http://127.0.0.1:9/hook' });
if (!endpoint.ok) throw new Error(endpoint.error.message);
const body = JSON.stringify({ event: 'executionActionCompleted', details: { customer: { email: 'jane@example.com' }, padding: 'x'.repeat(600) } });

/** `n` events dispatched `age` ago, each with a delivered delivery and one attempt. */
async function fill(n: number, age: number) {
  const at = Date.now() - age;
  for (let done = 0; done < n; done += 500) {
    const ids = Array.from({ length: Math.min(500, n - done) }, () => randomBytes(16).toString('hex'));
    await app.storage.uow.run(async (tx) => {
      await tx.insertInto('outbox').values(ids.map((id) => ({ id, merchant_id: merchant.merchantId, type: 'execution.executionActionCompleted', subject_id: id, payload: body, created_at: at, delivered_at: at, traceparent: null }))).execute();
      await tx.insertInto('webhook_deliveries').values(ids.map((id) => ({
        id, event_id: id, endpoint_id: endpoint.ok ? endpoint.value.endpointId : '', merchant_id: merchant.merchantId, event_type: 'executionActionCompleted', body, status: 'delivered',
        attempts: 1, retry_index: 0, ladder_start: at, next_attempt_at: at, lease_until: null, lease_owner: null, redeliveries: 0, last_status: 200, last_error: null,
        delivered_at: at, created_at: at, ordering_key: `execution:${id}`, seq: 1, traceparent: null,
      }))).execute();
      await tx.insertInto('webhook_attempts').values(ids.map((id) => ({ id, delivery_id: id, attempted_at: at, http_status: 200, latency_ms: 12, error: null, excerpt: null }))).execute();
    });
  }
}

function percentile(sorted: number[], p: number) { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0; }
const fmt = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return `p50 ${percentile(s, 0.5).toFixed(1)} ms, p99 ${percentile(s, 0.99).toFixed(1)} ms, max ${(s.at(-1) ?? 0).toFixed(1)} ms`; };

/** 16 clients paying until `until` resolves; the latencies of their payments. */
async function load(until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.then(() => { done = true; });
  const latencies: number[] = [];
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (!done) {
      const t = performance.now();
      const r = await pay(gw, { amount: '10.00' });
      if (r.status !== 200) throw new Error(`payment answered ${r.status}`);
      latencies.push(performance.now() - t);
    }
  }));
  return latencies;
}

try {
  const t0 = performance.now();
  await fill(history, 45 * day);
  await fill(recent, day);
  console.log(`webhook history purge, SQLite: ${history} events 45 days old and ${recent} a day old, each with a delivery and an attempt (filled in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const before = await load(new Promise((r) => setTimeout(r, 3000)));
  console.log(`payments at 16 connections, no purge:      ${(before.length / 3).toFixed(0)}/s, ${fmt(before)}`);
  // The job's own work: batches of deliveries (with their attempts and events), a pause after each.
  let purged = 0;
  const purge = app.webhooks.purgeFinished().then((r) => { purged = r.deliveries; });
  const started = performance.now();
  const during = await load(purge);
  const seconds = (performance.now() - started) / 1000;
  console.log(`purge: ${purged} deliveries (with their attempts and events) in ${seconds.toFixed(1)} s = ${(purged / seconds).toFixed(0)}/s`);
  console.log(`payments at 16 connections, during purge:  ${(during.length / seconds).toFixed(0)}/s, ${fmt(during)}`);
  const left = await app.storage.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  console.log(`deliveries left: ${Number(left.n)} (the recent ones, the payments' own)`);
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
