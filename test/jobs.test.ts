/**
 * Periodic jobs across nodes, end to end on one PostgreSQL schema: two gateways (app instances)
 * run each job once per period between them, a job that throws stops no other, the reconciler job
 * settles a lost PSP answer made on the other node, and a killed node's lease is taken over once
 * it lapses (and not before).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.ts';
import { createApp, type App } from '../src/app.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { systemClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { openStorage, type Storage } from '../src/storage/database.ts';
import { createJobStore } from '../src/jobs/kysely-store.ts';
import { createJobRunner } from '../src/jobs/service.ts';
import type { JobRecord } from '../src/jobs/store.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';
import { opp, postgresAvailable, startGateway, tempDir, testCard, testPostgresUrl } from './support/harness.ts';

const pgUp = await postgresAvailable();
const skip = pgUp ? undefined : 'PostgreSQL is not reachable (set TEST_DATABASE_URL); CI fails instead of skipping';

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const builtIn = ['reconcile-payments', 'reverse-late-approvals', 'purge-idempotency', 'expire-awaiting', 'confirm-bank-transfers', 'expire-authorizations', 'purge-dashboard-sessions', 'purge-cvv-holds', 'purge-tokenization-keys', 'erase-deleted-cards', 'release-capture-rests', 'purge-rate-hits', 'purge-checkouts', 'purge-webhook-history'];

describe('two gateways on one PostgreSQL schema', { skip }, () => {
  const schema = `sy_jobs_e2e_${randomBytes(6).toString('hex')}`;
  const clock = manualClock(Date.now());
  // The PSP is outside both nodes: one simulated acquirer that loses every answer, asked by either.
  const acquirer = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 1, errorRate: 0 });
  const nodes: { app: App; logs: Record<string, unknown>[]; dataDir: string }[] = [];
  /** Calls of the injected jobs, by node. */
  const probeCalls = [0, 0];
  const failCalls = [0, 0];
  let merchant: MerchantCredentials;
  let url: string;

  before(async () => {
    for (let i = 0; i < 2; i++) {
      const dataDir = tempDir('switchyard-jobs-e2e-');
      const base = loadConfig({
        SWITCHYARD_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info',
        // Reconciler jobs every 2 s, sweeps every 1 s (of the manual clock); the nodes look every 20 ms.
        SWITCHYARD_PSP_TIMEOUT_MS: '2000', SWITCHYARD_BANK_RECEIPT_DELAY_MS: '1000', SWITCHYARD_JOB_POLL_MS: '20',
        // Both nodes seal card data with the same master key, as a cluster does.
        SWITCHYARD_MASTER_KEY: 'ab'.repeat(32),
      });
      const config: Config = { ...base, storage: { kind: 'postgres', url: testPostgresUrl, schema } };
      const logs: Record<string, unknown>[] = [];
      const sink = new Writable({ write(chunk, _e, cb) { logs.push(JSON.parse(String(chunk))); cb(); } });
      // Nodes are created one after another: the first migrates the schema.
      const app = await createApp(config, { clock, processor: acquirer, logger: createLogger({ level: 'info', destination: sink as never }) });
      // A job injected on both nodes that always throws, and one that counts its runs per node.
      app.jobs.register({ name: 'always-fails', intervalMs: 1000, run: async () => { failCalls[i]!++; throw new Error('injected failure'); } });
      app.jobs.register({ name: 'count-probe', intervalMs: 1000, run: async () => { probeCalls[i]!++; } });
      nodes.push({ app, logs, dataDir });
    }
    merchant = await nodes[0]!.app.merchants.create({ name: 'Jobs Merchant' });
    url = await nodes[0]!.app.server.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    for (const n of nodes) {
      await n.app.close();
      rmSync(n.dataDir, { recursive: true, force: true });
    }
    await dropSchema(schema);
  });

  async function rows(): Promise<Map<string, JobRecord>> {
    const list = await createJobStore(nodes[0]!.app.storage.uow).jobs();
    return new Map(list.map((r) => [r.name, r]));
  }

  /** Waits until every job has finished exactly the runs expected of it and holds no lease. */
  async function settled(expected: Record<string, number>): Promise<Map<string, JobRecord>> {
    return until(`runs ${JSON.stringify(expected)}`, async () => {
      const r = await rows();
      const done = Object.entries(expected).every(([name, n]) => r.get(name)?.runCount === n && r.get(name)?.leaseUntil === undefined);
      return done ? r : undefined;
    });
  }

  test('each job runs once per period between the two nodes; the failing job stops none of the others', async () => {
    // A payment on node A whose PSP answer is lost: the reconciler job (on either node) settles it.
    const payment = await opp({ url, merchant }, 'POST', '/v1/payments', { amount: '92.00', currency: 'EUR', paymentType: 'PA', ...testCard });
    assert.equal(payment.body.result.code, '900.100.300', 'the answer was lost: unknown');
    assert.equal(acquirer.received.size, 1);

    for (const n of nodes) n.app.jobs.start();
    const expected = (periods: number) => ({
      // Reconciler jobs every 2 s, the rest every 1 s; each also ran once on start.
      'reconcile-payments': 1 + Math.floor(periods / 2), 'reverse-late-approvals': 1 + Math.floor(periods / 2),
      'purge-idempotency': 1 + Math.floor(periods / 2), 'expire-awaiting': 1 + periods, 'confirm-bank-transfers': 1 + periods,
      'always-fails': 1 + periods, 'count-probe': 1 + periods,
      // The CVV holder is swept with the other short-period jobs.
      'purge-cvv-holds': 1 + periods,
      // Once a minute: only the run on start falls within these seconds.
      'expire-authorizations': 1,
      'release-capture-rests': 1,
      // Every ten minutes: rate-limit counts past every window.
      'purge-rate-hits': 1,
      // Once an hour: the dashboard's expired sessions.
      'purge-dashboard-sessions': 1,
      'purge-tokenization-keys': 1,
      'erase-deleted-cards': 1,
      'purge-checkouts': 1,
      'purge-webhook-history': 1,
    });
    await settled(expected(0));
    const periods = 6;
    for (let p = 1; p <= periods; p++) {
      clock.advance(1000);
      await settled(expected(p));
    }
    // Both nodes keep polling (every 20 ms): nothing runs again until the clock moves on.
    await sleep(300);
    const r = await settled(expected(periods));
    for (const [name, n] of Object.entries(expected(periods))) assert.equal(r.get(name)!.runCount, n, name);
    assert.deepEqual([...r.keys()].sort(), [...builtIn, 'always-fails', 'count-probe'].sort());
    assert.equal(probeCalls[0]! + probeCalls[1]!, 1 + periods, `probe runs per node: ${probeCalls}`);
    assert.equal(failCalls[0]! + failCalls[1]!, 1 + periods);
    for (const name of builtIn) assert.equal(r.get(name)!.lastError, undefined, name);
    assert.equal(r.get('always-fails')!.lastError, 'Error: injected failure');
    const owners = new Set([nodes[0]!.app.jobs.owner, nodes[1]!.app.jobs.owner]);
    for (const row of r.values()) assert.ok(owners.has(row.leaseOwner!), 'every job was run by one of the two nodes');
    // The failure is logged with the job's name by whichever node ran it.
    const failures = nodes.flatMap((n) => n.logs).filter((l) => l.msg === 'job failed');
    assert.equal(failures.length, 1 + periods);
    for (const f of failures) {
      assert.equal(f.job, 'always-fails');
      assert.match(String(f.err), /injected failure/);
    }
    // The reconciler job asked the PSP and settled the lost answer, without a second charge.
    const status = await opp({ url, merchant }, 'GET', `/v1/query/${payment.body.id}`);
    assert.equal(status.body.result.code, '000.100.110');
    assert.equal(acquirer.received.size, 1);
  });

  test('close() stops the runner: no run starts on a closed node', async () => {
    const before = await rows();
    await nodes[1]!.app.jobs.stop();
    const callsOf1 = probeCalls[1];
    clock.advance(1000);
    const after = await settled({ 'count-probe': before.get('count-probe')!.runCount + 1 });
    assert.equal(after.get('count-probe')!.leaseOwner, nodes[0]!.app.jobs.owner, 'the remaining node runs everything');
    assert.equal(probeCalls[1], callsOf1);
  });
});

describe('a killed node', { skip }, () => {
  const schema = `sy_jobs_kill_${randomBytes(6).toString('hex')}`;
  let storage: Storage;
  before(async () => { storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema }); });
  after(async () => {
    await storage.close();
    await dropSchema(schema);
  });

  test('keeps its lease while alive (renewals); once killed, another node takes the job after the lease lapses', async () => {
    const leaseMs = 1500;
    const child = spawn(process.execPath, ['test/support/job-node.ts', schema, String(leaseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += String(d); });
    child.stderr.on('data', (d) => { out += String(d); });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const runner = createJobRunner({
      store: createJobStore(storage.uow), clock: systemClock, ids: randomIds,
      logger: createLogger({ level: 'warn', destination: { write: () => {} } as never }), leaseMs, maxWaitMs: 50,
    });
    let ranAt: number | undefined;
    try {
      const owner = await until('the child to start its job', async () => /started ([0-9a-f]{32})/.exec(out)?.[1], 15_000);
      runner.register({ name: 'hold-lease', intervalMs: 60_000, run: async () => { ranAt ??= Date.now(); } });
      runner.start();
      // Past two lease lengths: the live node's renewals keep the job from the other node.
      await sleep(2 * leaseMs + 500);
      assert.equal(ranAt, undefined, 'no takeover while the owner lives');
      const store = createJobStore(storage.uow);
      const held = (await store.jobs(['hold-lease']))[0]!;
      assert.equal(held.leaseOwner, owner);
      assert.ok(held.leaseUntil! > Date.now(), 'the lease was renewed');

      child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      const lastLease = (await store.jobs(['hold-lease']))[0]!.leaseUntil!;
      await until('the takeover', async () => ranAt, 10_000);
      assert.ok(ranAt! >= lastLease, `not before the lease lapsed (ran ${ranAt! - lastLease} ms after it)`);
      assert.ok(ranAt! - killedAt <= leaseMs + 1000, `taken over ${ranAt! - killedAt} ms after the kill`);
      const row = await until('the run recorded', async () => {
        const r = (await store.jobs(['hold-lease']))[0]!;
        return r.runCount === 1 ? r : undefined;
      });
      assert.equal(row.leaseOwner, runner.owner);
      assert.equal(row.lastError, undefined);
    } finally {
      await runner.stop();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});

test('the embedded store sweeps its CVV holder too: a quiet gateway kept a code nobody took in memory until a restart', async () => {
  const gw = await startGateway();
  try {
    const runs = await gw.app.jobs.runDue();
    assert.ok(runs.some((r) => r.name === 'purge-cvv-holds'), runs.map((r) => r.name).join(', '));
  } finally { await gw.close(); }
});
