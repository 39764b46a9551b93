/**
 * Three gateway processes on one PostgreSQL database, one merchant, requests spread across them:
 * what one node records or holds, the others see and honour as if they were one gateway.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { opp, postgresAvailable, tempDir, testCard } from './support/harness.ts';
import { onDatabase, urlWithSchema } from './support/stores.ts';
import { demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf, type Reachable } from './support/executions.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

const pgUp = await postgresAvailable();
const skip = pgUp ? undefined : 'PostgreSQL is not reachable (set TEST_DATABASE_URL); CI fails instead of skipping';

describe('three gateway processes on one PostgreSQL database', { skip }, () => {
  const schema = `sy_multi_${randomBytes(6).toString('hex')}`;
  const dirs: string[] = [];
  const nodes: GatewayProcess[] = [];
  let merchant: MerchantCredentials;
  const gw = (i: number): Reachable => ({ url: nodes[i % nodes.length]!.url, merchant });

  before(async () => {
    await onDatabase((c) => c.query(`CREATE SCHEMA "${schema}"`));
    const shared = {
      DATABASE_URL: urlWithSchema(schema),
      SWITCHYARD_MASTER_KEY: randomBytes(32).toString('hex'),
      SWITCHYARD_ADMIN_TOKEN: randomBytes(16).toString('hex'),
      // Short periods, so each job has run many times on some node while the test watches.
      SWITCHYARD_PSP_TIMEOUT_MS: '1000', SWITCHYARD_BANK_RECEIPT_DELAY_MS: '1000',
      SWITCHYARD_LONG_POLL_MS: '20000',
    };
    // One after another: the first migrates the schema and creates the demo merchant.
    for (let i = 0; i < 3; i++) {
      const dir = tempDir();
      dirs.push(dir);
      nodes.push(await startGatewayProcess({ ...shared, SWITCHYARD_DATA_DIR: dir }));
    }
    merchant = demoCredentials(dirs[0]!, nodes[0]!.output());
    for (const n of nodes.slice(1)) assert.doesNotMatch(n.output(), /Created the test-mode demo merchant/, 'one demo merchant for the cluster');
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await onDatabase((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  });

  test('a CVV given on one node is used by the authorization another node runs, once, and never stored in plain text', async () => {
    const token = await tokenOf(gw(0));
    const instrumentId = await instrument(gw(0), token);
    // A third node sees the code held: it is in the database, sealed.
    const held = await call(gw(2), 'GET', `/payment/instruments/${instrumentId}`, { token });
    assert.equal(held.body.securityCodeHeld, true);
    const rows = await onDatabase((c) => c.query(`SELECT key, sealed FROM "${schema}".cvv_holds`));
    assert.equal(rows.rowCount, 1);
    // Looked for where plain text could sit, not as a substring of the random key or sealed text
    // (a UUID holding "737" once failed this test): the key is only the instrument's id, and
    // neither the sealed text nor the bytes it encodes carry the code.
    const [hold] = rows.rows as { key: string; sealed: string }[];
    assert.equal(hold!.key, `instrument:${instrumentId}`);
    assert.ok(!Buffer.from(hold!.sealed, 'base64url').includes('737'), 'the test card\'s code (737) is not in the sealed bytes');
    assert.ok(hold!.sealed.length > 20 && !/^\d{3,4}$/.test(hold!.sealed), 'the code is sealed, not stored as it came');

    const id = await execution(gw(1), token);
    const auth = await call(gw(1), 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(instrumentId) });
    assert.equal(auth.status, 200, JSON.stringify(auth.body));
    const polled = await call(gw(1), 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(['created', 'authorizeRequested']))}`, { token });
    assert.equal(polled.body.status, 'authorized');
    // Node 1 took the code from the shared holder: it said nothing of authorizing without one.
    assert.doesNotMatch(nodes[1]!.output(), new RegExp(`no security code held[^\\n]*${instrumentId}|${instrumentId}[^\\n]*no security code held`));
    assert.equal((await call(gw(2), 'GET', `/payment/instruments/${instrumentId}`, { token })).body.securityCodeHeld, false, 'used once, then gone for every node');
    assert.equal((await onDatabase((c) => c.query(`SELECT 1 FROM "${schema}".cvv_holds`))).rowCount, 0);
  });

  test('a long-poll held on one node is woken by an authorization on another', async () => {
    const token = await tokenOf(gw(0));
    const instrumentId = await instrument(gw(0), token);
    const id = await execution(gw(0), token);
    const t0 = Date.now();
    const waiting = call(gw(0), 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(['created']))}`, { token });
    // Give the wait time to be in place before the change it waits for happens elsewhere.
    await new Promise((r) => setTimeout(r, 300));
    const auth = await call(gw(2), 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(instrumentId) });
    assert.equal(auth.status, 200);
    const woken = await waiting;
    assert.notEqual(woken.body.status, 'created');
    // Woken by the change, not released by the 20 s limit.
    assert.ok(Date.now() - t0 < 15_000, `the long-poll ran ${Date.now() - t0} ms`);
  });

  test('the two-per-minute status limit counts calls on every node together', async () => {
    const paid = await opp(gw(0), 'POST', '/v1/payments', { amount: '12.00', currency: 'EUR', paymentType: 'DB', ...testCard });
    assert.equal(paid.body.result.code, '000.100.110');
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await opp(gw(i), 'GET', `/v1/payments/${paid.body.id}`));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 429]);
    assert.equal(answers[2]!.body.result.code, '800.120.100');
  });

  test('one idempotency key sent to three nodes at once creates one execution', async () => {
    const token = await tokenOf(gw(0));
    const key = randomUUID();
    const body = { merchantReference: `order-${key.slice(0, 8)}`, holderReference: 'customer-1', workspaceId: merchant.workspaceId, meta: {} };
    const answers = await Promise.all([0, 1, 2].map((i) => call(gw(i), 'POST', wf, { token, key, body })));
    const created = answers.filter((a) => a.status === 201);
    assert.ok(created.length >= 1, JSON.stringify(answers.map((a) => [a.status, a.body])));
    assert.equal(new Set(created.map((a) => a.body.id)).size, 1, 'every answer names the same execution');
    // A concurrent duplicate is either the same answer replayed or told the first is still in progress.
    for (const a of answers) if (a.status !== 201) assert.equal(a.status, 409, JSON.stringify(a.body));
    const count = await onDatabase((c) => c.query(`SELECT count(*)::int AS n FROM "${schema}".executions WHERE merchant_reference = $1`, [body.merchantReference]));
    assert.equal(count.rows[0].n, 1);
  });

  test('each periodic job runs once per period for the whole cluster, not once per node', async () => {
    // Runs counted over one window with all three nodes up: the cluster runs each job once per
    // period; three nodes each running it would count about three times as many.
    const periodOf: Record<string, number> = {
      'reconcile-payments': 1000, 'reverse-late-approvals': 1000, 'purge-idempotency': 1000, 'expire-awaiting': 1000, 'confirm-bank-transfers': 1000, 'purge-cvv-holds': 1000,
    };
    const counts = async () => new Map((await onDatabase((c) => c.query(`SELECT name, run_count FROM "${schema}".jobs`))).rows
      .map((r) => [r.name as string, Number(r.run_count)]));
    const before = await counts();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 5000));
    const after = await counts();
    const periods = (Date.now() - t0) / 1000;
    // Every run, as the node that ran it recorded it: no two runs of one job overlap, and no due
    // time is served twice, whichever nodes ran them.
    const runs = (await onDatabase((c) => c.query(`SELECT name, owner, started_at, due_at, finished_at FROM "${schema}".job_runs WHERE started_at >= $1 ORDER BY started_at`, [t0 - 60_000]))).rows
      .map((r) => ({ name: r.name as string, owner: r.owner as string, startedAt: Number(r.started_at), dueAt: Number(r.due_at), finishedAt: r.finished_at === null ? undefined : Number(r.finished_at) }));
    const owners = new Set(runs.map((r) => r.owner));
    assert.ok(owners.size >= 2, `the jobs ran on ${owners.size} node(s): the cluster shares them`);
    for (const name of new Set(runs.map((r) => r.name))) {
      const mine = runs.filter((r) => r.name === name);
      for (let i = 1; i < mine.length; i++) {
        const [prev, next] = [mine[i - 1]!, mine[i]!];
        assert.ok(prev.finishedAt !== undefined && next.startedAt >= prev.finishedAt,
          `${name}: a run on ${next.owner} started at ${next.startedAt} while the run on ${prev.owner} (from ${prev.startedAt}) had not finished`);
      }
      assert.equal(new Set(mine.map((r) => r.dueAt)).size, mine.length, `${name}: a due time was served twice`);
    }
    for (const name of Object.keys(periodOf)) {
      assert.ok(before.has(name), `${name} is known to the cluster`);
      assert.ok(runs.some((r) => r.name === name), `${name} has runs in its history`);
      const ran = after.get(name)! - before.get(name)!;
      // One period of slack at each end of the window for timing.
      assert.ok(ran <= Math.floor(periods) + 2, `${name} ran ${ran} times in ${periods.toFixed(1)} periods`);
      assert.ok(ran >= 2, `${name} kept running: ${ran} runs in ${periods.toFixed(1)} periods`);
    }
  });
});
