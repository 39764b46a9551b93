import type { Clock } from '../runtime/clock.ts';
import { judgeSkew } from '../runtime/clock-skew.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import { ClockDisagreesError } from '../storage/clock-gate.ts';
import { asBackgroundPass } from '../storage/lock-wait.ts';
import { claimableNames, failureText, isJobName, nextRunAt, registrationWindow, renewEveryMs, wakeAfterMs } from './model.ts';
import type { JobRecord, JobStore } from './store.ts';

/** A periodic job: a name (its row in `jobs`), how often, and the work of one run. */
export interface JobDefinition {
  readonly name: string;
  readonly intervalMs: number;
  /** One run. What it resolves to (a count of rows handled, say) is logged at debug level. */
  run(): Promise<unknown>;
}

/** How one run of a job on this node ended. */
export interface JobRun {
  readonly name: string;
  readonly ok: boolean;
  /** False when this node lost the lease before the run ended, so its result was not recorded. */
  readonly recorded: boolean;
  readonly error?: string;
}

export interface JobRunnerDeps {
  store: JobStore;
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** How long a claim holds without renewal; a dead node's jobs wait this long for another node. */
  leaseMs?: number;
  /** The longest sleep between looks at the table (rows other nodes rescheduled are seen within it). */
  maxWaitMs?: number;
  /** The shortest sleep, so a claim lost to another node does not make a busy loop. */
  minWaitMs?: number;
  /**
   * This machine's own clock (the wall clock; `clock` may be a test's), compared with the
   * database's: leases and due times are written in each node's time.
   */
  wallClock?: () => number;
  /**
   * How far this node's clock may be off the database's for it to claim jobs; a quarter of a lease
   * when absent. The composition root gives the bound its nodes write under, when smaller: a node
   * that may not write would otherwise claim on every poll, and fail.
   */
  maxSkewMs?: number;
}

/** How often a node compares its clock with the database's. */
const clockCheckEveryMs = 10_000;

export interface JobRunner {
  /** This node's name in `jobs.lease_owner`. */
  readonly owner: string;
  /** Adds a job; registering a name twice is a bug. Rows are created on the next pass. */
  register(job: JobDefinition): void;
  /** Starts polling the table (the server process does; `stop` ends it). */
  start(): void;
  /**
   * One pass: claims every registered job that is due and runs the claimed ones, resolving when
   * they have finished. The polling loop does the same without waiting for the runs.
   *
   * @example await runner.runDue() // → [{ name: 'reconcile-payments', ok: true, recorded: true }]
   */
  runDue(): Promise<JobRun[]>;
  /** Stops polling and waits for the runs under way (at most one lease; then their leases lapse). */
  stop(): Promise<void>;
}

/**
 * Periodic work claimed in the database: every node runs a runner over the same `jobs` rows and
 * each due job runs on one of them. Jobs are independent: each runs on its own, and one that
 * throws is logged with its name and recorded on its row, and never stops another.
 */
export function createJobRunner(deps: JobRunnerDeps): JobRunner {
  const { store, clock, ids, logger } = deps;
  const leaseMs = deps.leaseMs ?? 30_000;
  const maxWaitMs = deps.maxWaitMs ?? 1000;
  const minWaitMs = Math.min(deps.minWaitMs ?? 50, maxWaitMs);
  const owner = ids.hex32();
  const jobs = new Map<string, JobDefinition>();
  const ensured = new Set<string>();
  /** Runs under way on this node, by job name. */
  const running = new Map<string, Promise<JobRun>>();
  const heartbeats = new Set<NodeJS.Timeout>();
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> | undefined;
  const wallClock = deps.wallClock ?? Date.now;
  // Leases are written and judged in each node's own time, and renewed every third of a lease: a
  // node whose clock is off by more than a quarter of one (in either direction; two such nodes
  // differ by at most half) could take a live lease, or push a due time ahead for every node.
  const maxSkewMs = Math.min(leaseMs / 4, deps.maxSkewMs ?? Infinity);
  let clockChecked: { at: number; skewMs: number; agrees: boolean } | undefined;
  let skewLoggedAt = -Infinity;

  /** Whether this node's clock agrees with the database's closely enough for it to claim jobs. */
  async function clockAgrees(): Promise<boolean> {
    const before = wallClock();
    if (!clockChecked || Math.abs(before - clockChecked.at) >= clockCheckEveryMs) {
      const databaseNow = await store.databaseNow();
      if (databaseNow === undefined) return true;
      const after = wallClock();
      // Undecided (a slow reading), the last verdict stands and the clock is read again.
      const { skewMs, verdict } = judgeSkew(before, after, databaseNow, maxSkewMs);
      if (verdict !== 'undecided') clockChecked = { at: after, skewMs, agrees: verdict === 'agrees' };
      else if (!clockChecked) return true;
      else clockChecked = { ...clockChecked, at: -Infinity };
    }
    const { skewMs, agrees } = clockChecked;
    if (agrees) return true;
    if (before - skewLoggedAt >= 60_000 || before < skewLoggedAt) {
      skewLoggedAt = before;
      logger.error({ owner, skewMs, maxSkewMs }, 'this node\'s clock disagrees with the database\'s: it claims no periodic job until its clock is set right (NTP)');
    }
    return false;
  }

  /** Creates the rows of jobs registered since the last pass (every node does; the first insert wins). */
  async function ensureRows(): Promise<void> {
    for (const job of jobs.values()) {
      if (ensured.has(job.name)) continue;
      const { firstRunAt, latestRunAt } = registrationWindow(clock.now(), job.intervalMs);
      await store.ensure(job.name, firstRunAt, latestRunAt);
      ensured.add(job.name);
    }
  }

  function launch(job: JobDefinition, claim: JobRecord): Promise<JobRun> {
    const startedAt = claim.lastStartedAt!;
    const dueAt = claim.nextRunAt;
    const log = logger.child({ job: job.name, owner });
    // The lease is renewed while the run lasts, so only a node that stopped renewing (killed, hung
    // event loop, cut off from the database) loses the job to another.
    const heartbeat = setInterval(() => {
      store.renew(job.name, owner, startedAt, clock.now() + leaseMs)
        .then((held) => { if (!held) log.warn('job lease lost to another node; this run will not be recorded'); })
        .catch((err) => log.warn({ err: String(err) }, 'job lease renewal failed'));
    }, renewEveryMs(leaseMs));
    heartbeat.unref();
    heartbeats.add(heartbeat);
    const run = (async (): Promise<JobRun> => {
      let error: string | undefined;
      try {
        const result = await asBackgroundPass(() => job.run());
        log.debug({ result, ms: clock.now() - startedAt }, 'job finished');
      } catch (err) {
        error = failureText(err);
        log.error({ err: String(err), ms: clock.now() - startedAt }, 'job failed');
      } finally {
        clearInterval(heartbeat);
        heartbeats.delete(heartbeat);
      }
      const finishedAt = clock.now();
      let recorded = false;
      try {
        recorded = await store.finish(job.name, owner, startedAt, { finishedAt, nextRunAt: nextRunAt(dueAt, job.intervalMs, finishedAt), error });
        if (!recorded) log.warn('job finished after its lease was lost; another node has run it since');
      } catch (err) {
        // The lease lapses on its own and the job runs again then: nothing is lost but one period.
        log.error({ err: String(err) }, 'job finish could not be recorded');
      }
      return { name: job.name, ok: error === undefined, recorded, ...(error !== undefined ? { error } : {}) };
    })();
    running.set(job.name, run);
    void run.finally(() => running.delete(job.name));
    return run;
  }

  /** Claims what is due and starts it; returns the runs started and how long to sleep. */
  async function tick(): Promise<{ runs: Promise<JobRun>[]; waitMs: number }> {
    if (!(await clockAgrees())) return { runs: [], waitMs: maxWaitMs };
    await ensureRows();
    const names = [...jobs.keys()];
    const rows = await store.jobs(names);
    const now = clock.now();
    const busy = new Set(running.keys());
    const due = claimableNames(rows, now, busy);
    const claimed = due.length > 0 ? await store.claim(due, now, owner, now + leaseMs) : [];
    const runs = claimed.map((c) => launch(jobs.get(c.name)!, c));
    const left = rows.filter((r) => !claimed.some((c) => c.name === r.name));
    return { runs, waitMs: runs.length > 0 ? minWaitMs : wakeAfterMs(left, now, busy, minWaitMs, maxWaitMs) };
  }

  function loop(): void {
    if (!started) return;
    const current = tick().then(
      ({ waitMs }) => waitMs,
      (err) => {
        // A node whose clock is off claims nothing (storage/clock-gate.ts says so, once a minute).
        if (!(err instanceof ClockDisagreesError)) logger.error({ err: String(err), owner }, 'job runner pass failed');
        return maxWaitMs;
      },
    );
    pass = current;
    void current.then((waitMs) => {
      if (!started) return;
      timer = setTimeout(loop, waitMs);
      timer.unref();
    });
  }

  return {
    owner,

    register(job) {
      if (!isJobName(job.name)) throw new Error(`invalid job name ${JSON.stringify(job.name)}`);
      if (!(job.intervalMs > 0)) throw new Error(`job ${job.name}: interval must be positive`);
      if (jobs.has(job.name)) throw new Error(`job ${job.name} is registered already`);
      jobs.set(job.name, job);
    },

    start() {
      if (started) return;
      started = true;
      logger.info({ owner, jobs: [...jobs.keys()] }, 'job runner started');
      loop();
    },

    async runDue() {
      const { runs } = await tick();
      return Promise.all(runs);
    },

    async stop() {
      started = false;
      clearTimeout(timer);
      await pass;
      const under = [...running.entries()];
      if (under.length === 0) return;
      let grace: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => { grace = setTimeout(resolve, leaseMs, 'timeout'); });
      const outcome = await Promise.race([Promise.all(under.map(([, p]) => p)), timedOut]);
      clearTimeout(grace);
      if (outcome === 'timeout') {
        // A run still going after a full lease is left: its lease lapses and another node takes the job.
        for (const h of heartbeats) clearInterval(h);
        heartbeats.clear();
        logger.warn({ owner, jobs: [...running.keys()] }, 'jobs still running at shutdown; their leases will lapse');
      }
    },
  };
}
