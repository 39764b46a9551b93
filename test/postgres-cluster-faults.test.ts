/**
 * Two gateway processes on one PostgreSQL schema while PostgreSQL misbehaves: a LISTEN connection
 * ended by pg_terminate_backend, or lost to an address that takes connections and never answers;
 * every connection of one node dropped while payments are in flight; the status rate limit hit on
 * both nodes at the same instant.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, connect, type Socket, type AddressInfo, type Server } from 'node:net';
import { opp, postgresAvailable, tempDir, testCard, testPostgresUrl } from './support/harness.ts';
import { onDatabase } from './support/stores.ts';
import { demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import { authorizeBody, call, execution, instrument, tokenOf, wf, type Reachable } from './support/executions.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

const pgUp = await postgresAvailable();
const skip = pgUp ? undefined : 'PostgreSQL is not reachable';

/** A TCP proxy in front of PostgreSQL; knows the local ports of its upstream sockets (pg_stat_activity.client_port). */
async function pgProxy() {
  const target = new URL(testPostgresUrl);
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  const state = { stall: false };
  const server: Server = createServer((client) => {
    if (state.stall) {
      // A server that takes the connection and never answers (a hung host, a half-failed-over address).
      sockets.add(client); client.on('error', () => {}); client.on('close', () => sockets.delete(client));
      return;
    }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client); sockets.add(upstream); upstreams.add(upstream);
    client.on('data', (d) => { upstream.write(d); });
    upstream.on('data', (d) => { client.write(d); });
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); upstreams.delete(upstream); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  return {
    port: p, state,
    ports: () => [...upstreams].map((s) => s.localPort).filter((x): x is number => x !== undefined),
    /** Every connection dropped, the port left open (a restart that is over at once). */
    dropAll() { for (const s of sockets) s.destroy(); },
    async close() { for (const s of sockets) s.destroy(); await new Promise<void>((r) => server.close(() => r())); },
  };
}

function urlVia(port: number | undefined, schema: string): string {
  const u = new URL(testPostgresUrl);
  if (port) { u.hostname = '127.0.0.1'; u.port = String(port); }
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

describe('two gateway processes on one PostgreSQL schema, PostgreSQL misbehaving', { skip }, () => {
  const schema = `sy_faults_${randomBytes(6).toString('hex')}`;
  const dirs: string[] = [];
  const nodes: GatewayProcess[] = [];
  let proxy: Awaited<ReturnType<typeof pgProxy>>;
  let merchant: MerchantCredentials;
  const gw = (i: number): Reachable => ({ url: nodes[i]!.url, merchant });

  before(async () => {
    await onDatabase((c) => c.query(`CREATE SCHEMA "${schema}"`));
    proxy = await pgProxy();
    const shared = {
      SWITCHYARD_MASTER_KEY: randomBytes(32).toString('hex'),
      SWITCHYARD_ADMIN_TOKEN: randomBytes(16).toString('hex'),
      SWITCHYARD_PSP_TIMEOUT_MS: '1000', SWITCHYARD_BANK_RECEIPT_DELAY_MS: '1000',
      SWITCHYARD_LONG_POLL_MS: '25000',
    };
    // Node 0 reaches PostgreSQL through the proxy (so its connections can be dropped); node 1 directly.
    for (let i = 0; i < 2; i++) {
      const dir = tempDir();
      dirs.push(dir);
      nodes.push(await startGatewayProcess({ ...shared, SWITCHYARD_DATA_DIR: dir, DATABASE_URL: urlVia(i === 0 ? proxy.port : undefined, schema) }));
    }
    merchant = demoCredentials(dirs[0]!, nodes[0]!.output());
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await proxy?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await onDatabase((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  });

  /** A long-poll on `on` must be woken by an authorization made on `by` well before the 25 s limit. */
  async function crossNodeWake(on: number, by: number) {
    const token = await tokenOf(gw(by));
    const instrumentId = await instrument(gw(by), token);
    const id = await execution(gw(by), token);
    const t0 = Date.now();
    const waiting = call(gw(on), 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(['created']))}`, { token });
    await new Promise((r) => setTimeout(r, 500));
    const auth = await call(gw(by), 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(instrumentId) });
    assert.equal(auth.status, 200, JSON.stringify(auth.body));
    const woken = await waiting;
    const ms = Date.now() - t0;
    assert.notEqual(woken.body.status, 'created');
    assert.ok(ms < 10_000, `the long-poll on node ${on} ran ${ms} ms: not woken by node ${by}'s change`);
  }

  test('long-polls are woken across nodes after the LISTEN connection is ended by pg_terminate_backend', async () => {
    await crossNodeWake(0, 1);
    // End node 0's backends that are only listening (its LISTEN connection), by their client ports.
    const ports = proxy.ports();
    const killed = await onDatabase((c) => c.query(
      `SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE client_port = ANY($1::int[]) AND query ILIKE 'LISTEN%'`, [ports]));
    assert.ok(killed.rowCount! >= 1, 'found node 0\'s LISTEN backend');
    await new Promise((r) => setTimeout(r, 1500));
    await crossNodeWake(0, 1);
  });

  test('every payment in flight on a node whose connections all drop is answered (none hangs), and the node works after', async () => {
    // 24 /v1 payments at once on node 0; its connections are dropped while they run.
    const inFlight = Array.from({ length: 24 }, (_, i) => {
      const t0 = Date.now();
      return opp({ url: nodes[0]!.url, merchant }, 'POST', '/v1/payments', { amount: `${10 + i}.00`, currency: 'EUR', paymentType: 'DB', merchantTransactionId: `faults-${schema}-${i}`, ...testCard })
        .then((r) => ({ i, status: r.status, code: r.body?.result?.code as string | undefined, id: r.body?.id as string | undefined, ms: Date.now() - t0 }))
        .catch((err: unknown) => ({ i, status: 0, code: String(err), id: undefined, ms: Date.now() - t0 }));
    });
    await new Promise((r) => setTimeout(r, 40));
    proxy.dropAll();
    const answers = await Promise.race([
      Promise.all(inFlight),
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref()),
    ]);
    assert.notEqual(answers, 'hung', 'some payment got no answer within 20 s after the connections dropped');
    // Every payment answered as approved is in the database, and every one in the database was not refused as if it never happened.
    const rows = await onDatabase((c) => c.query(`SELECT id, payment_id, status FROM "${schema}".transactions WHERE merchant_transaction_id LIKE $1`, [`faults-${schema}-%`]));
    for (const a of answers as any[]) {
      if (a.code === '000.100.110') assert.ok(rows.rows.some((r: any) => r.id === a.id || r.payment_id === a.id), `payment ${a.i} was answered approved but is not stored`);
    }
    // The node recovers.
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      const r = await opp({ url: nodes[0]!.url, merchant }, 'POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'DB', ...testCard }).catch(() => undefined);
      ok = r?.body?.result?.code === '000.100.110';
      if (!ok) await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(ok, 'node 0 takes payments again after its connections dropped');
    // And cross-node wake-ups still reach it (its LISTEN connection came back too).
    await crossNodeWake(0, 1);
  });

  test('the two-per-minute status limit holds when both nodes are asked at the same instant', async () => {
    const paid = await opp({ url: nodes[1]!.url, merchant }, 'POST', '/v1/payments', { amount: '12.00', currency: 'EUR', paymentType: 'DB', ...testCard });
    assert.equal(paid.body.result.code, '000.100.110');
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => opp({ url: nodes[i % 2]!.url, merchant }, 'GET', `/v1/payments/${paid.body.id}`)));
    assert.equal(answers.filter((a) => a.status === 200).length, 2, JSON.stringify(answers.map((a) => a.status)));
  });

  test('the LISTEN connection comes back after a reconnect attempt that the server never answers', async () => {
    await crossNodeWake(0, 1);
    // PostgreSQL goes away; for a moment its address takes connections and answers nothing.
    proxy.state.stall = true;
    proxy.dropAll();
    await new Promise((r) => setTimeout(r, 2000));
    // Then it is back and answers every new connection.
    proxy.state.stall = false;
    await new Promise((r) => setTimeout(r, 8000));
    await crossNodeWake(0, 1);
  });
});
