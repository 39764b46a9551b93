/**
 * Periodic jobs on two nodes whose clocks disagree. Leases and due times are written in each
 * node's own time, so a node whose clock is off by more than a quarter of a lease claims nothing
 * (and says so): ahead, it would take a live lease and run a job a second time while the first
 * run goes on, or push the job's next run ahead for the whole cluster.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Storage } from '../src/storage/database.ts';
import { createJobStore } from '../src/jobs/kysely-store.ts';
import { createJobRunner } from '../src/jobs/service.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { postgresAvailable } from './support/harness.ts';
import { twoNodesOnOneSchema } from './support/stores.ts';

const skip = (await postgresAvailable()) ? undefined : 'no PostgreSQL';
const quiet = () => createLogger({ level: 'silent', destination: new Writable({ write(_c, _e, cb) { cb(); } }) as never });

describe('jobs on two nodes whose clocks disagree (PostgreSQL)', { skip }, () => {
  let a: Storage;
  let b: Storage;
  let nodes: Awaited<ReturnType<typeof twoNodesOnOneSchema>> | undefined;
  before(async () => { nodes = await twoNodesOnOneSchema('sy_jobskew'); ({ a, b } = nodes); });
  after(async () => { await nodes?.close(); });

  test('a node whose clock is ahead by less than one lease does not run a job another node is running (and renewing)', async () => {
    const leaseMs = 3000;
    // Ahead by 5/6 of a lease (with the default 30 s lease: 25 s). The running node renews every lease/3.
    const skewMs = 2500;
    const name = 'skew-job';
    let running = 0;
    let overlapped = 0;
    let runs = 0;
    const job = { name, intervalMs: 60_000, run: async () => {
      runs++;
      if (++running > 1) overlapped++;
      await new Promise((r) => setTimeout(r, 2500));
      running--;
    } };
    const nodeA = createJobRunner({ store: createJobStore(a.uow), clock: { now: () => Date.now() }, ids: randomIds, logger: quiet(), leaseMs });
    const ahead = () => Date.now() + skewMs;
    const nodeB = createJobRunner({ store: createJobStore(b.uow), clock: { now: ahead }, wallClock: ahead, ids: randomIds, logger: quiet(), leaseMs });
    nodeA.register(job);
    nodeB.register({ ...job });
    const first = nodeA.runDue();
    // Node B polls while A's run goes on, as its runner would (every poll interval).
    const later: Promise<unknown>[] = [];
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 250));
      later.push(nodeB.runDue());
    }
    const results = await Promise.all([first, ...later]);
    assert.equal(overlapped, 0, `the job ran ${runs} times, ${overlapped} of them while another node's run of it was under way: ${JSON.stringify(results)}`);
  });

  test('a node whose clock runs ahead does not hold a job back from the rest of the cluster once it is gone', async () => {
    const name = 'skew-push';
    let runsOnB = 0;
    // Node B (right clock) has been running the job all along; node A, whose clock is ten minutes
    // ahead, joins, runs the job once and is then stopped (or dies).
    const nodeB = createJobRunner({ store: createJobStore(b.uow), clock: { now: () => Date.now() }, ids: randomIds, logger: quiet(), leaseMs: 3000 });
    nodeB.register({ name, intervalMs: 1000, run: async () => { runsOnB++; } });
    assert.equal((await nodeB.runDue()).length, 1);
    runsOnB = 0;
    await new Promise((r) => setTimeout(r, 1000));
    const logged: string[] = [];
    const sink = new Writable({ write(c, _e, cb) { logged.push(String(c)); cb(); } });
    const ahead = () => Date.now() + 600_000;
    const nodeA = createJobRunner({ store: createJobStore(a.uow), clock: { now: ahead }, wallClock: ahead, ids: randomIds, logger: createLogger({ level: 'error', destination: sink as never }), leaseMs: 3000 });
    nodeA.register({ name, intervalMs: 1000, run: async () => {} });
    assert.equal((await nodeA.runDue()).length, 0, 'a node ten minutes ahead claims nothing');
    assert.match(logged.join(''), /clock disagrees with the database/);
    await nodeA.stop();
    for (let i = 0; i < 6; i++) { await nodeB.runDue(); await new Promise((r) => setTimeout(r, 500)); }
    const [row] = await createJobStore(b.uow).jobs([name]);
    assert.ok(runsOnB >= 2, `a 1 s job ran ${runsOnB} times on the remaining node in 3 s; next_run_at is ${row!.nextRunAt - Date.now()} ms away`);
  });

  test('a node ten minutes ahead whose time query is slow (a busy pool) still claims nothing: latency is not taken for agreement', async () => {
    const real = createJobStore(a.uow);
    // The time query waits for a connection longer than the bound (a quarter of the 3 s lease).
    const slow = { ...real, databaseNow: async () => { await new Promise((r) => setTimeout(r, 900)); return real.databaseNow(); } };
    const ahead = () => Date.now() + 600_000;
    const node = createJobRunner({ store: slow, clock: { now: ahead }, wallClock: ahead, ids: randomIds, logger: quiet(), leaseMs: 3000 });
    let runs = 0;
    node.register({ name: 'skew-slow', intervalMs: 1000, run: async () => { runs++; } });
    const claimed = await node.runDue();
    const [row] = await real.jobs(['skew-slow']);
    assert.equal(claimed.length, 0, `claimed ${claimed.length}; the job's next run is now ${Math.round(((row?.nextRunAt ?? 0) - Date.now()) / 1000)} s away for the whole cluster`);
    assert.equal(runs, 0);
    await node.stop();
  });

  test('a node whose clock is right and whose time query is slow still claims its jobs', async () => {
    const real = createJobStore(b.uow);
    const slow = { ...real, databaseNow: async () => { await new Promise((r) => setTimeout(r, 900)); return real.databaseNow(); } };
    const node = createJobRunner({ store: slow, clock: { now: () => Date.now() }, ids: randomIds, logger: quiet(), leaseMs: 3000 });
    let runs = 0;
    node.register({ name: 'slow-but-right', intervalMs: 1000, run: async () => { runs++; } });
    assert.equal((await node.runDue()).length, 1);
    assert.equal(runs, 1);
    await node.stop();
  });
});
