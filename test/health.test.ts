import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { postgresAvailable, startGateway } from './support/harness.ts';

async function get(url: string) {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() as any };
}

test('/ready: 200 with each check ok; 503 naming the store once it is gone, while /health still answers', async () => {
  const gw = await startGateway();
  try {
    const ready = await get(`${gw.url}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready', checks: { store: 'ok', migrations: 'ok', keyRing: 'ok', disk: 'ok', clock: 'ok' } });
    await gw.app.storage.close();
    const down = await get(`${gw.url}/ready`);
    assert.equal(down.status, 503);
    assert.equal(down.body.status, 'not ready');
    assert.equal(down.body.checks.store, 'failing');
    assert.equal(down.body.checks.keyRing, 'ok');
    assert.ok(gw.logs.some((l) => l.includes('"not ready"') && l.includes('"store"')), 'the reason is logged');
    assert.equal((await get(`${gw.url}/health`)).status, 200);
  } finally {
    await gw.app.server.close();
  }
});

test('/ready: 503 while a migration of this code is not applied to the store (PostgreSQL)', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL not reachable');
  const gw = await startGateway({ store: 'postgres' });
  try {
    assert.equal((await get(`${gw.url}/ready`)).status, 200);
    await sql`delete from kysely_migration where name = '050_engine'`.execute(gw.app.storage.db);
    const r = await get(`${gw.url}/ready`);
    assert.equal(r.status, 503);
    assert.deepEqual(r.body.checks, { store: 'ok', migrations: 'failing', keyRing: 'ok', clock: 'ok' });
    assert.ok(gw.logs.some((l) => l.includes('050_engine')), 'the pending migration is named in the log');
  } finally {
    await gw.close();
  }
});

test('/ready: 503 draining from the moment shutdown begins, while requests are still served', async () => {
  const gw = await startGateway();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let started!: () => void;
  const running = new Promise<void>((resolve) => { started = resolve; });
  // A job still running holds shutdown in its first step, with the listener open.
  gw.app.jobs.register({ name: 'hold-shutdown', intervalMs: 60_000, run: async () => { started(); await gate; } });
  const runs = gw.app.jobs.runDue();
  await running;
  assert.equal((await get(`${gw.url}/ready`)).status, 200);
  const closing = gw.close();
  try {
    const r = await get(`${gw.url}/ready`);
    assert.equal(r.status, 503);
    assert.equal(r.body.status, 'draining');
    assert.equal((await get(`${gw.url}/health`)).status, 200, 'still alive while draining');
  } finally {
    release();
    await runs;
    await closing;
  }
});
