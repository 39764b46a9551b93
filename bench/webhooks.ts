/**
 * Webhook delivery benchmark: how fast the worker drains a backlog from the outbox to a local
 * receiver (the README's receivers, verifying every message), for both dialects, and how long a
 * backlog built up during a simulated day-long outage takes to drain once the receiver is back.
 *
 *   npm run bench:webhooks            (BENCH_EVENTS, default 2000 per dialect)
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import { createReceiver as oppReceiver } from '../examples/webhooks/opp-receiver.ts';
import { createReceiver as executionsReceiver } from '../examples/webhooks/executions-receiver.ts';
import { closeServer, freePort, listen, loopbackAllow } from '../test/support/webhooks.ts';
import { opp, tempDir, testCard } from '../test/support/harness.ts';

const events = Number(process.env.BENCH_EVENTS ?? 2000);
const clock = manualClock(Date.now());
const dataDir = tempDir('switchyard-bench-');
const silent = createLogger({ level: 'warn', destination: new Writable({ write(_c, _e, cb) { cb(); } }) as never });
const app = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow }), { clock, logger: silent });
const url = await app.server.listen({ port: 0, host: '127.0.0.1' });
const merchant = await app.merchants.create({ name: 'Bench' });

function percentile(sorted: number[], p: number) { return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!; }
async function attemptLatencies(endpointId: string) {
  const rows = await app.storage.db.selectFrom('webhook_attempts').innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
    .select('webhook_attempts.latency_ms as ms').where('webhook_deliveries.endpoint_id', '=', endpointId).where('webhook_attempts.http_status', '=', 200).execute();
  return rows.map((r) => r.ms).sort((a, b) => a - b);
}
async function drain(label: string, endpointId: string, received: () => number, expected: number) {
  const t0 = performance.now();
  while (received() < expected) await app.webhooks.runOnce();
  const s = (performance.now() - t0) / 1000;
  const lat = await attemptLatencies(endpointId);
  console.log(`${label.padEnd(44)} ${expected} in ${s.toFixed(2)} s = ${(expected / s).toFixed(0)} deliveries/s; attempt latency p50 ${percentile(lat, 0.5)} ms, p99 ${percentile(lat, 0.99)} ms`);
}
async function executionsEvents(n: number) {
  for (let i = 0; i < n; i++) {
    const body = { event: 'executionActionCompleted', time: new Date(clock.now()).toISOString(), workspaceId: merchant.workspaceId, eventTrigger: 'action',
      details: { action: 'authorize', actionId: randomBytes(16).toString('hex'), success: true, execution: { id: randomBytes(16).toString('hex') } } };
    await addOutboxEvent(app.storage.db, { id: randomBytes(16).toString('hex'), merchantId: merchant.merchantId, type: 'execution.executionActionCompleted', subjectId: body.details.execution.id, createdAt: clock.now(), payload: body });
  }
}

try {
  console.log(`webhook delivery, ${events} events per run, SQLite, batch ${app.config.webhooks.batchSize}, receivers verify every message`);
  // Executions: signed JSON.
  {
    const port = await freePort();
    const ep = await app.webhooks.addEndpoint({ merchantId: merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${port}/` });
    if (!ep.ok) throw new Error(ep.error.message);
    let n = 0;
    const r = executionsReceiver(ep.value.secret, () => { n++; }, clock.now);
    await listen(r, port);
    await executionsEvents(events);
    await drain('executions (HMAC-signed)', ep.value.endpointId, () => n, events);
    await app.webhooks.setStatus(ep.value.endpointId, 'disabled');
    await closeServer(r);
  }
  // /v1: rendered from the payment and encrypted.
  {
    const port = await freePort();
    const ep = await app.webhooks.addEndpoint({ merchantId: merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/` });
    if (!ep.ok) throw new Error(ep.error.message);
    let n = 0;
    const r = oppReceiver(ep.value.secret, () => { n++; });
    await listen(r, port);
    const gw = { url, merchant };
    for (let i = 0; i < events; i++) await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
    await drain('/v1 (rendered, AES-256-GCM)', ep.value.endpointId, () => n, events + 1);
    // Outage: the receiver is down for a simulated day while events pile up, then comes back.
    await closeServer(r);
    for (let i = 0; i < events; i++) await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
    const down = performance.now();
    let attempts = 0;
    const until = clock.now() + 24 * 3_600_000;
    while (clock.now() < until) {
      await app.webhooks.runOnce();
      attempts++;
      clock.advance(60_000);
    }
    const downS = (performance.now() - down) / 1000;
    const r2 = oppReceiver(ep.value.secret, () => { n++; });
    await listen(r2, port);
    clock.advance(3 * 3_600_000);
    const before = n;
    await drain('/v1 backlog after a simulated 24 h outage', ep.value.endpointId, () => n - before, events);
    console.log(`  (the outage itself: ${attempts} worker passes over 24 simulated hours took ${downS.toFixed(1)} s of wall time)`);
    await closeServer(r2);
  }
} finally {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
