/**
 * `/metrics` while the database is unusable: the node's own metrics (HTTP answers, PSP calls and
 * circuits, the event loop, the process) are what an operator needs then, so the scrape still
 * answers, without the store's backlog gauges, promptly, and never with a driver's message or a
 * database's address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { createApp } from '../src/app.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { pay, postgresAvailable, startGateway, tempDir, testPostgresUrl } from './support/harness.ts';
import { postgresProxy } from './support/postgres-proxy.ts';

/** A scrape; one that hangs fails the test (a Prometheus scrape gives up after 10 s). */
async function scrape(url: string) {
  const r = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(8000) });
  return { status: r.status, text: await r.text() };
}

test('/metrics with the SQLite store unusable: still 200 with the node\'s own metrics, and no driver message', async () => {
  const gw = await startGateway();
  try {
    assert.equal((await pay(gw)).status, 200);
    await gw.app.storage.close();
    const r = await scrape(gw.url);
    assert.doesNotMatch(r.text, /driver|destroyed/i, 'no internals in the answer');
    assert.equal(r.status, 200, r.text.slice(0, 200));
    assert.match(r.text, /switchyard_http_requests_total\{route="\/v1\/payments",method="POST",status="200"\} 1/);
    assert.match(r.text, /switchyard_payment_operations_total\{channel="opp",kind="sale",status="succeeded"/);
  } finally {
    await gw.app.server.close();
  }
});

async function gatewayOverProxy() {
  const schema = `sy_metrics_${randomBytes(6).toString('hex')}`;
  const proxy = await postgresProxy();
  const base = loadConfig({ SWITCHYARD_DATA_DIR: tempDir(), PORT: '0', LOG_LEVEL: 'info' });
  const sink = new Writable({ write(_c, _e, cb) { cb(); } });
  const app = await createApp({ ...base, storage: { kind: 'postgres', url: proxy.url, schema } }, { logger: createLogger({ level: 'info', destination: sink as never }) });
  const url = await app.server.listen({ port: 0, host: '127.0.0.1' });
  return {
    app, url, proxy,
    async close() {
      proxy.thaw();
      await Promise.race([app.close(), new Promise((r) => setTimeout(r, 15_000).unref())]);
      await proxy.stop().catch(() => {});
      const admin = new pg.Client({ connectionString: testPostgresUrl });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await admin.end();
    },
  };
}

test('/metrics with PostgreSQL frozen: answered, without waiting for the store', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL not reachable');
  const gw = await gatewayOverProxy();
  try {
    assert.match((await scrape(gw.url)).text, /switchyard_webhook_deliveries_pending \d/);
    gw.proxy.freeze();
    const r = await scrape(gw.url);
    assert.equal(r.status, 200, r.text.slice(0, 200));
    assert.match(r.text, /switchyard_http_requests_total/);
  } finally {
    await gw.close();
  }
});

test('/metrics with PostgreSQL refusing connections: 200, and the answer names no database host or port', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL not reachable');
  const gw = await gatewayOverProxy();
  try {
    await gw.proxy.stop();
    const r = await scrape(gw.url);
    assert.doesNotMatch(r.text, new RegExp(`ECONNREFUSED|127\\.0\\.0\\.1:${gw.proxy.port}|Connection terminated`), 'no driver message in the answer');
    assert.equal(r.status, 200, r.text.slice(0, 200));
  } finally {
    await gw.close();
  }
});
