import type { JobSchedule } from './model.ts';

/** A periodic job's row: its schedule, who runs it now (or ran it last), and how its runs went. */
export interface JobRecord extends JobSchedule {
  /** The node holding the lease, or (lease cleared) the node that ran the job last. */
  readonly leaseOwner: string | undefined;
  readonly lastStartedAt: number | undefined;
  readonly lastFinishedAt: number | undefined;
  /** The last run's failure; undefined after a run that succeeded. */
  readonly lastError: string | undefined;
  /** Runs that finished (succeeded or failed) and were recorded by the node holding the lease. */
  readonly runCount: number;
}

/** One run of a job, whichever node ran it (`JobStore.runs`). */
export interface JobRun {
  readonly name: string;
  readonly owner: string;
  readonly startedAt: number;
  readonly dueAt: number;
  readonly finishedAt: number | undefined;
  readonly error: string | undefined;
}

/** How a run ended, as the lease holder records it. */
export interface JobFinish {
  readonly finishedAt: number;
  readonly nextRunAt: number;
  readonly error: string | undefined;
}

/**
 * A claim is identified by its owner and the time it started (`last_started_at`): a node that lost
 * its lease (it stalled past it and another node took the job) can then neither renew nor finish.
 */
export interface JobStore {
  /**
   * Adds the job's row when missing, due at `firstRunAt`; an existing row due after `latestRunAt`
   * is brought forward to it. Safe to call from every node at once.
   */
  ensure(name: string, firstRunAt: number, latestRunAt: number): Promise<void>;
  /** The named jobs' rows (every row without names), by name. */
  jobs(names?: readonly string[]): Promise<JobRecord[]>;
  /**
   * Claims each of the named jobs that is due at `now` and has no live lease: the lease goes to
   * `owner` until `leaseUntil` and the run starts at `now`. Returns the rows claimed (their
   * `nextRunAt` is the due time this run serves). Of concurrent claimers each job goes to one.
   */
  claim(names: readonly string[], now: number, owner: string, leaseUntil: number): Promise<JobRecord[]>;
  /** Extends a running claim's lease; false when the claim is no longer this owner's. */
  renew(name: string, owner: string, startedAt: number, leaseUntil: number): Promise<boolean>;
  /**
   * Records the end of a claimed run and releases the lease; false (the job's row left alone) when
   * the claim was lost. The run's own history row is ended either way: it ran.
   */
  finish(name: string, owner: string, startedAt: number, result: JobFinish): Promise<boolean>;
  /**
   * When the job's latest run that finished without an error started, whichever node ran it;
   * undefined when none did within the week of runs kept.
   */
  lastSucceeded(name: string): Promise<number | undefined>;
  /** When the job's latest run that finished, with an error or without, started; undefined as above. */
  lastFinished(name: string): Promise<number | undefined>;
  /** The runs started at or after `since`, oldest first, whichever node ran them (a week is kept). */
  runs(since: number): Promise<JobRun[]>;
  /**
   * The database server's clock (epoch ms), which every node shares; undefined where the store
   * is embedded in this process (SQLite), whose clock is this node's own.
   */
  databaseNow(): Promise<number | undefined>;
}
