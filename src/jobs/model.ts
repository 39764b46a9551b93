import { scrubPans } from '../runtime/scrub.ts';

/**
 * Pure scheduling rules of periodic jobs: when a job is due, who may claim it, when it runs next.
 * Every node applies them to the same `jobs` rows, so a job runs once per period on the whole
 * cluster however many nodes poll.
 */

/** What the rules need of a job's row. */
export interface JobSchedule {
  readonly name: string;
  /** Epoch ms at which the job is next due. */
  readonly nextRunAt: number;
  /** While a node runs the job: until when its lease holds (undefined when nobody runs it). */
  readonly leaseUntil: number | undefined;
}

/** A job name: lowercase words joined by dashes, as it appears in logs and the `jobs` table. */
export function isJobName(name: string): boolean {
  return /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name) && name.length <= 64;
}

/** A lease holds up to, not including, its `leaseUntil`: at that instant another node may take the job. */
export function leaseLapsed(leaseUntil: number | undefined, now: number): boolean {
  return leaseUntil === undefined || leaseUntil <= now;
}

/** Due, and nobody holds a live lease on it. */
export function isClaimable(job: JobSchedule, now: number): boolean {
  return job.nextRunAt <= now && leaseLapsed(job.leaseUntil, now);
}

/** The names among `jobs` this node should try to claim now (those it is running itself excepted). */
export function claimableNames(jobs: readonly JobSchedule[], now: number, runningHere: ReadonlySet<string> = new Set()): string[] {
  return jobs.filter((j) => !runningHere.has(j.name) && isClaimable(j, now)).map((j) => j.name);
}

/**
 * The next due time after a run that was due at `dueAt` and finished at `finishedAt`: the first
 * slot of the job's grid (`dueAt + k·interval`, k ≥ 1) after the finish. Keeping to the grid stops
 * the schedule drifting by each run's duration and polling delay; skipping the slots a slow run or
 * a stopped cluster missed means no backlog of runs is made up at once.
 *
 * @example nextRunAt(1000, 500, 1200) === 1500; nextRunAt(1000, 500, 2600) === 3000
 */
export function nextRunAt(dueAt: number, intervalMs: number, finishedAt: number): number {
  if (!(intervalMs > 0)) throw new RangeError(`interval must be positive, got ${intervalMs}`);
  if (finishedAt < dueAt) return dueAt + intervalMs;
  return dueAt + (Math.floor((finishedAt - dueAt) / intervalMs) + 1) * intervalMs;
}

/**
 * When a node registers a job: a new row is due at once (work left by a crash is picked up on
 * start), and an existing row due later than one interval from now (scheduled under a longer
 * interval than the one configured now) is brought forward to it.
 */
export function registrationWindow(now: number, intervalMs: number): { firstRunAt: number; latestRunAt: number } {
  return { firstRunAt: now, latestRunAt: now + intervalMs };
}

/** A live lease is renewed this often, so a few lost renewals in a row still keep it. */
export function renewEveryMs(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / 3));
}

/**
 * How long the runner may sleep before looking again: until the earliest job (not running here)
 * becomes claimable, between `minMs` (no busy loop when a claim is lost to another node) and
 * `maxMs` (rows other nodes rescheduled are seen within it).
 */
export function wakeAfterMs(jobs: readonly JobSchedule[], now: number, runningHere: ReadonlySet<string>, minMs: number, maxMs: number): number {
  let earliest = Infinity;
  for (const j of jobs) {
    if (runningHere.has(j.name)) continue;
    earliest = Math.min(earliest, Math.max(j.nextRunAt, j.leaseUntil ?? -Infinity));
  }
  return Math.min(maxMs, Math.max(minMs, earliest - now));
}

/**
 * A job's failure as stored on its row: the message only, bounded, and scrubbed of anything that
 * looks like a card number (a row is no log line, so the logger's scrubber does not see it).
 */
export function failureText(err: unknown, max = 1000): string {
  const text = scrubPans(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
