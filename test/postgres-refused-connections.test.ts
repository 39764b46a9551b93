/**
 * PostgreSQL stopped or restarting refuses connections (ECONNREFUSED): a request the database could
 * not serve is answered as any store-unavailable one, 503 with Retry-After: 1 and /v1 900.100.100
 * (it changed nothing), not 500 999.999.999, which tells the merchant the acquirer failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, postgresAvailable, startGateway } from './support/harness.ts';
import { postgresProxy } from './support/postgres-proxy.ts';
import pg from 'pg';
import { testPostgresUrl } from './support/harness.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL unreachable';

test('a payment while PostgreSQL refuses connections (stopped, restarting) is answered 503 900.100.100 with Retry-After, not 500 999.999.999', { skip }, async () => {
  const proxy = await postgresProxy();
  const gw = await startGateway({ store: 'postgres', env: { DATABASE_URL: proxy.url } });
  let stopped = false;
  try {
    const before = await pay(gw);
    assert.equal(before.status, 200);
    await proxy.stop(); stopped = true;
    const r = await pay(gw);
    assert.equal(r.status, 503, `answered ${r.status} ${JSON.stringify(r.body?.result)}`);
    assert.equal(r.body.result.code, '900.100.100');
    assert.equal(r.headers.get('retry-after'), '1');
    const read = await opp(gw, 'GET', `/v1/payments/${before.body.id}`);
    assert.equal(read.status, 503, `a status read answered ${read.status} ${JSON.stringify(read.body?.result)}`);
  } finally {
    if (!stopped) await proxy.stop();
    await gw.app.close().catch(() => {});
    const schema = (gw.app.config.storage as { schema?: string }).schema;
    const admin = new pg.Client({ connectionString: testPostgresUrl }); await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); await admin.end();
  }
});
