/**
 * Two gateway processes on one PostgreSQL schema; node A is killed (SIGKILL) in the middle of its
 * work and never comes back. Node B alone finishes what A had begun: an authorization whose PSP call
 * was out (B's reconciler settles the attempt once A's job lease lapses, the cascade goes on, one
 * charge), and a 3-D Secure challenge the shopper had opened on A (it lives in the database: the
 * shopper answers it through B).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { postgresAvailable, tempDir } from './support/harness.ts';
import { onDatabase, urlWithSchema } from './support/stores.ts';
import { demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import { authorizeBody, call, configureCascade, execution, instrument, tokenOf, wf } from './support/executions.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

const pgUp = await postgresAvailable();
const skip = pgUp ? undefined : 'PostgreSQL is not reachable';

/** Two gateway processes on a schema of their own, started before the block's tests, both killed after. */
function twoNodes() {
  const schema = `sy_nodedeath_${randomBytes(6).toString('hex')}`;
  const dirs: string[] = [];
  const nodes: GatewayProcess[] = [];
  const adminToken = randomBytes(16).toString('hex');
  const pair = { nodes, dirs, adminToken, merchant: undefined as unknown as MerchantCredentials };
  before(async () => {
    await onDatabase((c) => c.query(`CREATE SCHEMA "${schema}"`));
    const shared = {
      DATABASE_URL: urlWithSchema(schema), SWITCHYARD_MASTER_KEY: randomBytes(32).toString('hex'), SWITCHYARD_ADMIN_TOKEN: adminToken,
      SWITCHYARD_PSP_TIMEOUT_MS: '1000', SWITCHYARD_JOB_POLL_MS: '200',
    };
    for (let i = 0; i < 2; i++) {
      const dir = tempDir();
      dirs.push(dir);
      nodes.push(await startGatewayProcess({ ...shared, SWITCHYARD_DATA_DIR: dir }));
    }
    pair.merchant = demoCredentials(pair.dirs[0]!, pair.nodes[0]!.output());
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await onDatabase((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  });
  return pair;
}

describe('a node killed while its PSP call is out, the other node carrying on', { skip }, () => {
  const pair = twoNodes();

  test('the surviving node settles the dead node\'s in-flight authorization, one charge, without the dead node coming back', async () => {
    const a = { url: pair.nodes[0]!.url, merchant: pair.merchant, dataDir: pair.dirs[0]! };
    const b = { url: pair.nodes[1]!.url, merchant: pair.merchant };
    await configureCascade({ ...a, app: { config: { adminToken: pair.adminToken } } as any }, { 'psp-slow': { latencyMs: 900 }, 'psp-b': {} }, ['psp-slow', 'psp-b']);
    const token = await tokenOf(a);
    const inst = await instrument(a, token);
    const id = await execution(a, token);
    assert.equal((await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
    for (let i = 0; i < 200; i++) {
      const e = (await call(b, 'GET', `${wf}/${id}`, { token })).body;
      if (e.paymentComposition?.[0]?.attempts?.length === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const before = (await call(b, 'GET', `${wf}/${id}`, { token })).body;
    assert.deepEqual(before.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.status]), [['psp-slow', 'pending']]);
    await pair.nodes[0]!.stop('SIGKILL');
    const killedAt = Date.now();

    // Job lease 30 s + reconciler's 2 x PSP timeout: allow 60 s on a busy machine.
    let e = before;
    while (['authorizeRequested', 'unknown'].includes(e.status) && Date.now() - killedAt < 60_000) {
      await new Promise((r) => setTimeout(r, 500));
      e = (await call(b, 'GET', `${wf}/${id}`, { token })).body;
    }
    assert.equal(e.status, 'authorized', `after ${Date.now() - killedAt} ms: ${JSON.stringify(e.paymentComposition?.[0]?.attempts)} ${JSON.stringify(e.statusHistory)}`);
    const attempts = e.paymentComposition[0].attempts;
    assert.equal(attempts.filter((x: any) => x.status === 'succeeded').length, 1, JSON.stringify(attempts));
    await new Promise((r) => setTimeout(r, 1000));
    const later = (await call(b, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(later.paymentComposition[0].attempts.filter((x: any) => x.status === 'succeeded').length, 1);
    assert.equal(later.status, 'authorized');
  });
});

describe('a node killed while a challenge is open on it, the other node carrying on', { skip }, () => {
  const pair = twoNodes();

  test('a shopper whose 3-D Secure challenge was opened on the dead node finishes it through the other node', async () => {
    const a = { url: pair.nodes[0]!.url, merchant: pair.merchant };
    const b = { url: pair.nodes[1]!.url, merchant: pair.merchant };
    const returnInfo = { success: 'https://shop.example/ok', cancel: 'https://shop.example/cancel', error: 'https://shop.example/error' };
    const token = await tokenOf(a);
    const inst = await instrument(a, token, '4200000000000042', 'h-3ds-dead');
    const id = await execution(a, token, 'h-3ds-dead');
    const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: { ...authorizeBody(inst), returnInfo } });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    let e: any;
    for (let i = 0; i < 100; i++) { e = (await call(a, 'GET', `${wf}/${id}`, { token })).body; if (e.status !== 'authorizeRequested' && e.status !== 'created') break; await new Promise((r) => setTimeout(r, 50)); }
    assert.equal(e.status, 'authorizePending', JSON.stringify(e));
    const href = new URL(e.requiredAction.href as string);
    // The shopper opens the challenge page on A, then A dies.
    assert.equal((await fetch(href, { redirect: 'manual' })).status, 200);
    await pair.nodes[0]!.stop('SIGKILL');
    const viaB = new URL(href.pathname + href.search, b.url);
    const page = await fetch(viaB, { redirect: 'manual' });
    assert.equal(page.status, 200, await page.text());
    const answered = await fetch(`${viaB.toString()}/result`, { method: 'POST', body: new URLSearchParams({ outcome: 'completed' }), redirect: 'manual' });
    assert.equal(answered.status, 303, await answered.text());
    const deadline = Date.now() + 30_000;
    do { e = (await call(b, 'GET', `${wf}/${id}`, { token })).body; if (e.status === 'authorized') break; await new Promise((r) => setTimeout(r, 300)); } while (Date.now() < deadline);
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory));
    assert.equal(e.paymentComposition[0].attempts.filter((x: any) => x.status === 'succeeded').length, 1);
  });
});
