/**
 * Two nodes on one PostgreSQL schema. Node A is cut off from the database (its host hangs, or the
 * network drops its packets without a reset) in the middle of a unit of work that holds a lock:
 * here the advisory lock the status rate limit takes for a payment (throttle/kysely-store.ts).
 * Node A's statement deadline gives up on its connection, but the server never learns: its backend
 * stays "idle in transaction", holding the lock, for as long as TCP takes to notice (hours with
 * the kernel's defaults). Node B's units that need the same lock wait behind it, and B's deadline
 * probe keeps vouching for them ("active": waiting for a lock) so they are never given up. Once
 * six of them wait, every lane of node B is taken and no unit of any other request commits there.
 * So the server ends a session idle inside its transaction for as long as the statement deadline.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'kysely';
import { openStorage, type Storage } from '../src/storage/database.ts';
import { createThrottleStore } from '../src/throttle/kysely-store.ts';
import { createThrottle } from '../src/throttle/service.ts';
import { Writable } from 'node:stream';
import { createJobStore } from '../src/jobs/kysely-store.ts';
import { createJobRunner } from '../src/jobs/service.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { postgresAvailable, testPostgresUrl } from './support/harness.ts';
import { postgresProxy, type PostgresProxy } from './support/postgres-proxy.ts';

const skip = (await postgresAvailable()) ? undefined : 'no PostgreSQL';

const within = <T>(p: Promise<T>, ms: number) => Promise.race([
  p.then((v) => ({ settled: true as const, v }), (e: unknown) => ({ settled: true as const, e })),
  new Promise<{ settled: false }>((r) => setTimeout(() => r({ settled: false }), ms)),
]);

describe('a node partitioned away while its unit of work holds a lock (PostgreSQL)', { skip }, () => {
  let schema: string;
  let proxy: PostgresProxy;
  let a: Storage;
  let b: Storage;
  let zombies: number[] = [];
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: testPostgresUrl });
    await c.connect();
    try { return await fn(c); } finally { await c.end(); }
  };

  // Two fresh nodes for each test: node A reaches PostgreSQL through a proxy that can be partitioned.
  beforeEach(async () => {
    schema = `sy_partition_${randomBytes(5).toString('hex')}`;
    zombies = [];
    proxy = await postgresProxy();
    // Short statement deadlines, so node A gives up on its connection quickly.
    b = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema, statementDeadlineMs: 1000 });
    a = await openStorage({ kind: 'postgres', url: proxy.url, schema, statementDeadlineMs: 1000 });
  });
  afterEach(async () => {
    // Free what the partitioned backend holds (what the server would do only when TCP gives up), then clean up.
    await admin((c) => c.query(`select pg_terminate_backend(pid) from pg_stat_activity where pid = any($1::int[])`, [zombies])).catch(() => {});
    await proxy.stop();
    await a.close().catch(() => {});
    await b.close().catch(() => {});
    await admin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
  });

  test('node B\'s status checks of the payment, and then node B\'s other units, are answered (not held for ever behind the lost node\'s lock)', async () => {
    const key = `opp-status:${randomBytes(16).toString('hex')}`;
    // Node A: a status hit takes the payment's advisory lock; the node is cut off before its next statement.
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => { locked = r; });
    let goOn!: () => void;
    const cutOff = new Promise<void>((r) => { goOn = r; });
    const onA = a.uow.run(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(tx);
      zombies.push((await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid);
      locked();
      await cutOff;
      await sql`select 1`.execute(tx);
    });
    await lockTaken;
    proxy.partition();
    goOn();
    const aOutcome = await within(onA, 10_000);
    assert.ok(aOutcome.settled && 'e' in aOutcome, 'node A gave up its unit (its deadline closed the connection)');

    // Node B: the same payment's status is asked for six times (a merchant polling, a retry), then another request's unit.
    const throttleB = createThrottle({ store: createThrottleStore(b.uow), clock: { now: () => Date.now() } });
    const polls = Array.from({ length: 6 }, () => throttleB.take(key, 2, 60_000));
    await new Promise((r) => setTimeout(r, 300));
    const other = b.uow.run(async (tx) => (await sql<{ one: number }>`select 1 as one`.execute(tx)).rows[0]!.one);

    const [poll, unrelated] = await Promise.all([within(polls[0]!, 15_000), within(other, 15_000)]);
    const held = await admin((c) => c.query(`select state from pg_stat_activity where pid = any($1::int[]) and state like 'idle in transaction%'`, [zombies]));
    assert.ok(poll.settled, `a status check on node B got no answer in 15 s: it waits on the lock of node A's abandoned transaction (${held.rowCount} backend(s) still idle in transaction; unrelated unit answered: ${unrelated.settled})`);
    assert.ok(unrelated.settled, 'an unrelated unit of work on node B got no answer in 15 s: all six lanes wait on that lock');
  });

  test('periodic jobs keep running on node B after node A is cut off in the middle of claiming them', async () => {
    const name = `partition-${randomBytes(3).toString('hex')}`;
    const quiet = () => createLogger({ level: 'silent', destination: new Writable({ write(_c, _e, cb) { cb(); } }) as never });
    const nodeB = createJobRunner({ store: createJobStore(b.uow), clock: { now: () => Date.now() }, ids: randomIds, logger: quiet(), leaseMs: 1000 });
    let runsOnB = 0;
    nodeB.register({ name, intervalMs: 500, run: async () => { runsOnB++; } });
    assert.equal((await nodeB.runDue()).length, 1, 'node B runs the job while all is well');
    runsOnB = 0;
    await new Promise((r) => setTimeout(r, 600));
    // Node A claims the due job as the job store does on PostgreSQL (FOR UPDATE SKIP LOCKED, then
    // the lease), and is cut off before its COMMIT gets through.
    let claimed!: () => void;
    const inClaim = new Promise<void>((r) => { claimed = r; });
    let goOn!: () => void;
    const cutOff = new Promise<void>((r) => { goOn = r; });
    const onA = a.uow.run(async (tx) => {
      const now = Date.now();
      const due = await tx.selectFrom('jobs').select('name').where('name', '=', name).where('next_run_at', '<=', now).forUpdate().skipLocked().execute();
      assert.equal(due.length, 1);
      await tx.updateTable('jobs').set({ lease_owner: 'node-a', lease_until: now + 1000, last_started_at: now }).where('name', '=', name).execute();
      zombies.push((await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx)).rows[0]!.pid);
      claimed();
      await cutOff;
    });
    await inClaim;
    proxy.partition();
    goOn();
    await within(onA, 10_000);
    // Node B keeps polling for 8 s: several leases, and sixteen periods of the job.
    for (let i = 0; i < 16; i++) { await nodeB.runDue(); await new Promise((r) => setTimeout(r, 500)); }
    assert.ok(runsOnB >= 1, `a 500 ms job ran ${runsOnB} times on node B in 8 s after node A was cut off mid-claim: its row stays locked by A's abandoned transaction, which SKIP LOCKED passes over`);
  });
});
