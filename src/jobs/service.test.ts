import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openStorage, type Storage } from '../storage/database.ts';
import { manualClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createLogger } from '../runtime/logger.ts';
import { createJobStore } from './kysely-store.ts';
import { createJobRunner, type JobRunnerDeps } from './service.ts';
import type { JobStore } from './store.ts';

let dir: string;
let storage: Storage;
let store: JobStore;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-jobs-'));
  storage = await openStorage({ kind: 'sqlite', dataDir: dir });
  store = createJobStore(storage.uow);
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
/** Job names unique per test, so tests share one store without seeing each other's rows. */
const unique = (base: string) => `${base}-${++seq}`;

function runner(overrides: Partial<JobRunnerDeps> = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  const clock = manualClock();
  const r = createJobRunner({ store, clock, ids: randomIds, logger: createLogger({ level: 'debug', destination: sink as never }), ...overrides });
  return { runner: r, clock: (overrides.clock ?? clock) as ReturnType<typeof manualClock>, lines };
}

test('a due job runs once per period, on the grid, with its row recording each run', async () => {
  const { runner: r, clock } = runner();
  const name = unique('count');
  let runs = 0;
  r.register({ name, intervalMs: 1000, run: async () => ++runs });
  const t0 = clock.now();
  assert.deepEqual(await r.runDue(), [{ name, ok: true, recorded: true }], 'a new job is due at once');
  assert.deepEqual(await r.runDue(), [], 'not again in the same period');
  clock.advance(999);
  assert.deepEqual(await r.runDue(), []);
  clock.advance(1);
  await r.runDue();
  clock.advance(1500);
  await r.runDue();
  assert.equal(runs, 3);
  const [row] = await store.jobs([name]);
  assert.equal(row!.runCount, 3);
  assert.equal(row!.nextRunAt, t0 + 3000, 'grid slots, whatever the polling delay');
  assert.equal(row!.leaseUntil, undefined);
  assert.equal(row!.leaseOwner, r.owner, 'the last runner stays named');
  assert.equal(row!.lastStartedAt, t0 + 2500);
  assert.equal(row!.lastError, undefined);
});

test('a job that throws is logged with its name and recorded on its row; the other jobs run, and it runs again next period', async () => {
  const { runner: r, clock, lines } = runner();
  const [bad, good1, good2] = [unique('bad'), unique('good'), unique('good')];
  let fail = true;
  let goodRuns = 0;
  r.register({ name: good1, intervalMs: 1000, run: async () => { goodRuns++; } });
  r.register({ name: bad, intervalMs: 1000, run: async () => { if (fail) throw new Error('row 7 is corrupt'); } });
  r.register({ name: good2, intervalMs: 1000, run: () => { goodRuns++; return Promise.resolve(); } });
  const first = await r.runDue();
  assert.deepEqual(first.map((x) => [x.name, x.ok]).sort(), [[bad, false], [good1, true], [good2, true]].sort());
  assert.equal(goodRuns, 2);
  const failed = lines.find((l) => l.msg === 'job failed');
  assert.equal(failed?.job, bad);
  assert.match(String(failed?.err), /row 7 is corrupt/);
  assert.equal((await store.jobs([bad]))[0]!.lastError, 'Error: row 7 is corrupt');
  clock.advance(1000);
  fail = false;
  await r.runDue();
  assert.equal(goodRuns, 4);
  const [row] = await store.jobs([bad]);
  assert.equal(row!.lastError, undefined, 'a success clears the last failure');
  assert.equal(row!.runCount, 2, 'failed runs count too');
});

test('a job that hangs does not hold up the others: each runs on its own', async () => {
  const { runner: r, clock } = runner();
  const [slow, quick] = [unique('slow'), unique('quick')];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let quickRuns = 0;
  r.register({ name: slow, intervalMs: 1000, run: () => gate });
  r.register({ name: quick, intervalMs: 1000, run: async () => { quickRuns++; } });
  const pending = r.runDue();
  // The polling loop's view: while `slow` runs here, later passes still claim and run `quick`. The
  // first pass runs `quick` beside the hanging `slow` (waited for, not timed: a slow disk takes longer).
  for (const until = Date.now() + 10_000; quickRuns < 1;) {
    if (Date.now() > until) assert.fail('the first pass never ran the quick job beside the hanging one');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  clock.advance(1000);
  await r.runDue();
  clock.advance(1000);
  await r.runDue();
  assert.equal(quickRuns, 3);
  release();
  await pending;
  assert.equal((await store.jobs([slow]))[0]!.runCount, 1);
});

test('stop() waits for the run under way, which is recorded', async () => {
  const { runner: r } = runner({ maxWaitMs: 5 });
  const name = unique('stopping');
  let release!: () => void;
  let started!: () => void;
  const running = new Promise<void>((resolve) => { started = resolve; });
  r.register({ name, intervalMs: 60_000, run: () => { started(); return new Promise<void>((resolve) => { release = resolve; }); } });
  r.start();
  await running;
  let stopped = false;
  const stopping = r.stop().then(() => { stopped = true; });
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(stopped, false, 'still running: stop waits');
  release();
  await stopping;
  const [row] = await store.jobs([name]);
  assert.equal(row!.runCount, 1);
  assert.equal(row!.leaseUntil, undefined, 'the lease is released, not left to lapse');
});

test('a lapsed lease is taken over; the stalled node can neither renew nor record its late finish', async () => {
  const clock = manualClock();
  const a = runner({ clock, leaseMs: 60_000 });
  const b = runner({ clock, leaseMs: 60_000 });
  const name = unique('lease');
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => { release = resolve; });
  let bRuns = 0;
  a.runner.register({ name, intervalMs: 1000, run: () => stalled });
  b.runner.register({ name, intervalMs: 1000, run: async () => { bRuns++; } });
  const aRun = a.runner.runDue();
  await new Promise((resolve) => setTimeout(resolve, 20));
  const claimed = (await store.jobs([name]))[0]!;
  assert.equal(claimed.leaseOwner, a.runner.owner);
  clock.advance(59_999);
  assert.deepEqual(await b.runner.runDue(), [], 'the lease still holds');
  clock.advance(1);
  assert.deepEqual(await b.runner.runDue(), [{ name, ok: true, recorded: true }], 'lapsed: B takes the job');
  assert.equal(bRuns, 1);
  assert.equal(await store.renew(name, a.runner.owner, claimed.lastStartedAt!, clock.now() + 60_000), false);
  release();
  assert.deepEqual(await aRun, [{ name, ok: true, recorded: false }]);
  const [row] = await store.jobs([name]);
  assert.equal(row!.runCount, 1, "only B's run is recorded");
  assert.equal(row!.leaseOwner, b.runner.owner);
  assert.ok(a.lines.some((l) => l.msg === 'job finished after its lease was lost; another node has run it since'));
});

test('register refuses bad names, non-positive intervals and duplicates', () => {
  const { runner: r } = runner();
  assert.throws(() => r.register({ name: 'Bad Name', intervalMs: 1000, run: async () => {} }), /invalid job name/);
  assert.throws(() => r.register({ name: 'ok', intervalMs: 0, run: async () => {} }), /positive/);
  r.register({ name: 'twice', intervalMs: 1000, run: async () => {} });
  assert.throws(() => r.register({ name: 'twice', intervalMs: 1000, run: async () => {} }), /already/);
});

test('a shorter interval than the one a row was scheduled with takes effect at once', async () => {
  const { runner: r, clock } = runner();
  const name = unique('reinterval');
  await store.ensure(name, clock.now() + 3_600_000, clock.now() + 3_600_000);
  r.register({ name, intervalMs: 1000, run: async () => {} });
  assert.deepEqual(await r.runDue(), []);
  assert.equal((await store.jobs([name]))[0]!.nextRunAt, clock.now() + 1000);
});
