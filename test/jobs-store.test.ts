/**
 * Store conformance of the `jobs` table: the same assertions, through the JobStore interface, on
 * SQLite (a file) and PostgreSQL (a throwaway schema), as in store-conformance.test.ts. The
 * PostgreSQL half is skipped when no server answers; the test command fails under CI then.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { openStorage, type Storage, type StorageTarget } from '../src/storage/database.ts';
import { createJobStore } from '../src/jobs/kysely-store.ts';
import type { JobStore } from '../src/jobs/store.ts';
import { postgresAvailable, tempDir, testPostgresUrl } from './support/harness.ts';

interface Location {
  readonly target: StorageTarget;
  /** Runs SQL on a connection of its own (PostgreSQL only), for holding row locks. */
  readonly schema?: string;
  destroy(): Promise<void>;
}

function sqliteLocation(): Location {
  const dataDir = tempDir('switchyard-jobs-conf-');
  return { target: { kind: 'sqlite', dataDir }, async destroy() { rmSync(dataDir, { recursive: true, force: true }); } };
}

function postgresLocation(): Location {
  const schema = `sy_jobs_${randomBytes(6).toString('hex')}`;
  return {
    target: { kind: 'postgres', url: testPostgresUrl, schema }, schema,
    async destroy() {
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
    },
  };
}

const T = Date.UTC(2026, 0, 1);
let seq = 0;
const unique = (base: string) => `${base}-${++seq}`;

function conformance(name: string, locate: () => Location, skip?: string) {
  describe(name, skip ? { skip } : {}, () => {
    let location: Location;
    let storage: Storage;
    let second: Storage;
    let jobs: JobStore;
    /** The same location through a second connection (pool): another node. */
    let other: JobStore;

    before(async () => {
      location = locate();
      storage = await openStorage(location.target);
      second = await openStorage(location.target);
      jobs = createJobStore(storage.uow);
      other = createJobStore(second.uow);
    });
    after(async () => {
      await storage?.close();
      await second?.close();
      await location?.destroy();
    });

    test('ensure adds a row once, from any number of nodes at once, and only ever brings its next run forward', async () => {
      const job = unique('ensure');
      await Promise.all([
        ...Array.from({ length: 5 }, (_, i) => jobs.ensure(job, T + i, T + 10_000)),
        ...Array.from({ length: 5 }, (_, i) => other.ensure(job, T + 5 + i, T + 10_000)),
      ]);
      const rows = await jobs.jobs([job]);
      assert.equal(rows.length, 1);
      const first = rows[0]!;
      assert.ok(first.nextRunAt >= T && first.nextRunAt < T + 10, 'one of the inserts won');
      assert.deepEqual(first, {
        name: job, nextRunAt: first.nextRunAt, leaseOwner: undefined, leaseUntil: undefined, lastStartedAt: undefined,
        lastFinishedAt: undefined, lastError: undefined, runCount: 0,
      });
      assert.equal(typeof first.nextRunAt, 'number');
      await jobs.ensure(job, T + 50_000, T + 60_000);
      assert.equal((await jobs.jobs([job]))[0]!.nextRunAt, first.nextRunAt, 'an earlier due time is kept');
      await jobs.finish(job, 'nobody', T, { finishedAt: T, nextRunAt: T + 9_999_999, error: undefined });
      await jobs.ensure(job, T, T + 7000);
      assert.equal((await jobs.jobs([job]))[0]!.nextRunAt, first.nextRunAt, 'finish without a claim wrote nothing');
    });

    test('jobs() lists the named rows by name; no names, no rows; no argument, every row', async () => {
      const [b, a] = [unique('list-b'), unique('list-a')];
      await jobs.ensure(b, T, T);
      await jobs.ensure(a, T, T);
      assert.deepEqual((await jobs.jobs([b, a, 'missing'])).map((r) => r.name), [a, b].sort());
      assert.deepEqual(await jobs.jobs([]), []);
      const all = (await jobs.jobs()).map((r) => r.name);
      assert.ok(all.includes(a) && all.includes(b));
    });

    test('claim takes only due jobs without a live lease, and returns them with the due time they serve', async () => {
      const [due, later, leased, lapsed] = [unique('due'), unique('later'), unique('leased'), unique('lapsed')];
      await jobs.ensure(due, T, T);
      await jobs.ensure(later, T + 1, T + 1);
      await jobs.ensure(leased, T - 100, T);
      await jobs.ensure(lapsed, T - 100, T);
      assert.equal((await other.claim([leased, lapsed], T - 50, 'node-b', T + 10)).length, 2);
      assert.equal((await other.renew(lapsed, 'node-b', T - 50, T)), true, 'lease now ends at T');
      const claimed = await jobs.claim([due, later, leased, lapsed], T, 'node-a', T + 30_000);
      assert.deepEqual(claimed.map((c) => c.name), [due, lapsed].sort());
      const c = claimed.find((x) => x.name === due)!;
      assert.deepEqual(c, {
        name: due, nextRunAt: T, leaseOwner: 'node-a', leaseUntil: T + 30_000, lastStartedAt: T,
        lastFinishedAt: undefined, lastError: undefined, runCount: 0,
      });
      assert.equal(claimed.find((x) => x.name === lapsed)!.nextRunAt, T - 100);
      assert.deepEqual(await jobs.claim([], T, 'node-a', T + 1), []);
      assert.deepEqual(await jobs.claim(['no-such-job'], T, 'node-a', T + 1), []);
    });

    test('of 20 concurrent claimers on two connections, exactly one gets each job', async () => {
      const names = [unique('race'), unique('race'), unique('race')];
      for (const n of names) await jobs.ensure(n, T, T);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? other : jobs).claim(names, T + 1, `node-${i}`, T + 60_000).then((rows) => rows.map((r) => [r.name, `node-${i}`] as const))));
      const won = results.flat();
      assert.deepEqual(won.map(([n]) => n).sort(), [...names].sort(), 'each job claimed once');
      const rows = await jobs.jobs(names);
      for (const [n, owner] of won) assert.equal(rows.find((r) => r.name === n)!.leaseOwner, owner);
    });

    test('renew and finish hold only for the claim (owner and start) that holds the lease; finish releases it', async () => {
      const job = unique('finish');
      await jobs.ensure(job, T, T);
      await jobs.claim([job], T, 'node-a', T + 100);
      assert.equal(await jobs.renew(job, 'node-b', T, T + 200), false, 'another owner');
      assert.equal(await jobs.renew(job, 'node-a', T - 1, T + 200), false, 'another claim of the same owner');
      assert.equal(await jobs.renew(job, 'node-a', T, T + 200), true);
      assert.equal((await jobs.jobs([job]))[0]!.leaseUntil, T + 200);
      assert.equal(await jobs.finish(job, 'node-b', T, { finishedAt: T + 5, nextRunAt: T + 1000, error: undefined }), false);
      assert.equal(await jobs.finish(job, 'node-a', T, { finishedAt: T + 5, nextRunAt: T + 1000, error: 'Error: boom' }), true);
      assert.deepEqual((await jobs.jobs([job]))[0], {
        name: job, nextRunAt: T + 1000, leaseOwner: 'node-a', leaseUntil: undefined, lastStartedAt: T,
        lastFinishedAt: T + 5, lastError: 'Error: boom', runCount: 1,
      });
      assert.equal(await jobs.finish(job, 'node-a', T, { finishedAt: T + 6, nextRunAt: T + 2000, error: undefined }), false, 'a finish is recorded once');
      assert.equal(await jobs.renew(job, 'node-a', T, T + 300), false, 'a finished claim has no lease to renew');
      assert.deepEqual(await jobs.claim([job], T + 999, 'node-b', T + 2000), [], 'not due before its next run');
      const [again] = await other.claim([job], T + 1000, 'node-b', T + 2000);
      assert.equal(again!.lastError, 'Error: boom', 'the last failure stays until a run ends');
      await other.finish(job, 'node-b', T + 1000, { finishedAt: T + 1001, nextRunAt: T + 2000, error: undefined });
      const [row] = await jobs.jobs([job]);
      assert.equal(row!.lastError, undefined);
      assert.equal(row!.runCount, 2);
    });

    test('lastSucceeded is the start of the latest run that ended without an error, lastFinished of the latest that ended at all, whichever node ran it', async () => {
      const job = unique('succeeded');
      await jobs.ensure(job, T, T);
      assert.equal(await jobs.lastSucceeded(job), undefined, 'never run');
      assert.equal(await jobs.lastFinished(job), undefined, 'never run');
      await jobs.claim([job], T, 'node-a', T + 100);
      await jobs.finish(job, 'node-a', T, { finishedAt: T + 5, nextRunAt: T + 10, error: undefined });
      assert.equal(await jobs.lastSucceeded(job), T);
      await other.claim([job], T + 10, 'node-b', T + 100);
      assert.equal(await jobs.lastSucceeded(job), T, 'a run still going is no success yet');
      assert.equal(await jobs.lastFinished(job), T, 'nor a finished run');
      await other.finish(job, 'node-b', T + 10, { finishedAt: T + 15, nextRunAt: T + 20, error: 'Error: boom' });
      assert.equal(await jobs.lastSucceeded(job), T, 'a failed run is none');
      assert.equal(await jobs.lastFinished(job), T + 10, 'a failed run finished');
      await other.claim([job], T + 20, 'node-b', T + 100);
      await other.finish(job, 'node-b', T + 20, { finishedAt: T + 25, nextRunAt: T + 30, error: undefined });
      assert.equal(await jobs.lastSucceeded(job), T + 20);
      assert.equal(await jobs.lastSucceeded(unique('other')), undefined, 'another job\'s runs are not its');
    });

    test('a lapsed lease goes to another node; the old owner can then neither renew nor finish', async () => {
      const job = unique('takeover');
      await jobs.ensure(job, T, T);
      await jobs.claim([job], T, 'dead-node', T + 30_000);
      assert.deepEqual(await other.claim([job], T + 29_999, 'node-b', T + 60_000), []);
      const [taken] = await other.claim([job], T + 30_000, 'node-b', T + 60_000);
      assert.equal(taken!.leaseOwner, 'node-b');
      assert.equal(taken!.nextRunAt, T, 'the takeover serves the same due time');
      assert.equal(await jobs.renew(job, 'dead-node', T, T + 90_000), false);
      assert.equal(await other.finish(job, 'node-b', T + 30_000, { finishedAt: T + 30_001, nextRunAt: T + 31_000, error: undefined }), true);
      // The stalled node ends late: its finish is refused, but its run is in the history as it ran.
      assert.equal(await jobs.finish(job, 'dead-node', T, { finishedAt: T + 31_000, nextRunAt: T + 1000, error: undefined }), false);
      const history = (await jobs.runs(T)).filter((r) => r.name === job);
      assert.deepEqual(history.map((r) => [r.owner, r.startedAt, r.dueAt, r.finishedAt]), [
        ['dead-node', T, T, T + 31_000], ['node-b', T + 30_000, T, T + 30_001],
      ], 'both runs, overlapping, are in the history: the job row alone could not show them');
    });

    if (locate === postgresLocation) {
      test('PostgreSQL: a claim skips a row another transaction holds locked instead of waiting for it', async () => {
        const [held, free] = [unique('locked'), unique('free')];
        await jobs.ensure(held, T, T);
        await jobs.ensure(free, T, T);
        const client = new pg.Client({ connectionString: testPostgresUrl, options: `-c search_path="${location.schema}"` });
        await client.connect();
        try {
          await client.query('BEGIN');
          await client.query('SELECT name FROM jobs WHERE name = $1 FOR UPDATE', [held]);
          // A claim that waited for the lock would wait for ever here (the lock is released after it).
          let timer: NodeJS.Timeout | undefined;
          const claimed = await Promise.race([
            jobs.claim([held, free], T, 'node-a', T + 1000),
            new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('the claim waited for the locked row')), 5000); }),
          ]).finally(() => clearTimeout(timer));
          assert.deepEqual(claimed.map((c) => c.name), [free], 'the locked row is skipped, not waited for');
          await client.query('ROLLBACK');
          assert.deepEqual((await jobs.claim([held, free], T, 'node-a', T + 1000)).map((c) => c.name), [held]);
        } finally {
          await client.end();
        }
      });
    }
  });
}

conformance('jobs store: SQLite', sqliteLocation);
const pgUp = await postgresAvailable();
conformance('jobs store: PostgreSQL', postgresLocation, pgUp ? undefined
  : `PostgreSQL is not reachable at ${testPostgresUrl.replace(/\/\/[^@]*@/, '//***@')} (set TEST_DATABASE_URL); CI fails instead of skipping`);
