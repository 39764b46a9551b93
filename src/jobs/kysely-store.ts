import type { Selectable } from 'kysely';
import { databaseNow } from '../storage/clock-gate.ts';
import type { JobRunsTable, JobsTable } from '../storage/schema.ts';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { JobRecord, JobRun, JobStore } from './store.ts';

/** How long the history of runs is kept. */
const runsKeptMs = 7 * 24 * 3_600_000;

const toRun = (r: Selectable<JobRunsTable>): JobRun => ({
  name: r.name, owner: r.owner, startedAt: Number(r.started_at), dueAt: Number(r.due_at),
  finishedAt: r.finished_at === null ? undefined : Number(r.finished_at), error: r.error ?? undefined,
});

const toJob = (r: Selectable<JobsTable>): JobRecord => ({
  name: r.name, nextRunAt: r.next_run_at, leaseOwner: r.lease_owner ?? undefined, leaseUntil: r.lease_until ?? undefined,
  lastStartedAt: r.last_started_at ?? undefined, lastFinishedAt: r.last_finished_at ?? undefined,
  lastError: r.last_error ?? undefined, runCount: r.run_count,
});

/**
 * One implementation for both stores. `locking` (PostgreSQL) claims with FOR UPDATE SKIP LOCKED in
 * a short transaction, so a node never waits on another's claim; SQLite has one writer, and one
 * conditional UPDATE is the claim.
 */
export function createJobStore(uow: UnitOfWork): JobStore {
  const { db } = uow;
  const opts = { locking: uow.kind === 'postgres' };
  return {
    async ensure(name, firstRunAt, latestRunAt) {
      await db.insertInto('jobs').values({
        name, next_run_at: firstRunAt, lease_owner: null, lease_until: null, last_started_at: null,
        last_finished_at: null, last_error: null, run_count: 0,
      }).onConflict((oc) => oc.column('name').doNothing()).execute();
      await db.updateTable('jobs').set({ next_run_at: latestRunAt })
        .where('name', '=', name).where('next_run_at', '>', latestRunAt).execute();
    },

    async jobs(names) {
      if (names && names.length === 0) return [];
      let q = db.selectFrom('jobs').selectAll();
      if (names) q = q.where('name', 'in', names);
      return (await q.orderBy('name').execute()).map(toJob);
    },

    async claim(names, now, owner, leaseUntil) {
      if (names.length === 0) return [];
      const claimable = { lease_owner: owner, lease_until: leaseUntil, last_started_at: now };
      // The claim and the run's history row commit together.
      return uow.run(async (tx) => {
        let claimed;
        if (!opts.locking) {
          claimed = await tx.updateTable('jobs').set(claimable)
            .where('name', 'in', names).where('next_run_at', '<=', now)
            .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
            .returningAll().execute();
        } else {
          const due = (await tx.selectFrom('jobs').select('name')
            .where('name', 'in', names).where('next_run_at', '<=', now)
            .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
            .orderBy('name').forUpdate().skipLocked().execute()).map((r) => r.name);
          claimed = due.length === 0 ? [] : await tx.updateTable('jobs').set(claimable).where('name', 'in', due).returningAll().execute();
        }
        if (claimed.length > 0) {
          await tx.insertInto('job_runs').values(claimed.map((r) => ({ name: r.name, owner, started_at: now, due_at: r.next_run_at, finished_at: null, error: null })))
            .onConflict((oc) => oc.doNothing()).execute();
        }
        return claimed.map(toJob).sort((a, b) => a.name.localeCompare(b.name));
      });
    },

    async renew(name, owner, startedAt, leaseUntil) {
      const r = await db.updateTable('jobs').set({ lease_until: leaseUntil })
        .where('name', '=', name).where('lease_owner', '=', owner).where('last_started_at', '=', startedAt)
        .where('lease_until', 'is not', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async finish(name, owner, startedAt, result) {
      return uow.run(async (tx) => {
        await tx.updateTable('job_runs').set({ finished_at: result.finishedAt, error: result.error ?? null })
          .where('name', '=', name).where('started_at', '=', startedAt).where('owner', '=', owner).execute();
        await tx.deleteFrom('job_runs').where('name', '=', name).where('started_at', '<', result.finishedAt - runsKeptMs).execute();
        // lease_owner stays: with the lease cleared it tells an operator which node ran the job last.
        const r = await tx.updateTable('jobs').set((eb) => ({
          lease_until: null, next_run_at: result.nextRunAt, last_finished_at: result.finishedAt,
          last_error: result.error ?? null, run_count: eb('run_count', '+', 1),
        })).where('name', '=', name).where('lease_owner', '=', owner).where('last_started_at', '=', startedAt)
          .where('lease_until', 'is not', null).executeTakeFirst();
        return Number(r.numUpdatedRows) > 0;
      });
    },

    async lastSucceeded(name) {
      const row = await db.selectFrom('job_runs').select('started_at').where('name', '=', name)
        .where('finished_at', 'is not', null).where('error', 'is', null)
        .orderBy('started_at', 'desc').limit(1).executeTakeFirst();
      return row === undefined ? undefined : Number(row.started_at);
    },

    async lastFinished(name) {
      const row = await db.selectFrom('job_runs').select('started_at').where('name', '=', name)
        .where('finished_at', 'is not', null).orderBy('started_at', 'desc').limit(1).executeTakeFirst();
      return row === undefined ? undefined : Number(row.started_at);
    },

    async runs(since) {
      return (await db.selectFrom('job_runs').selectAll().where('started_at', '>=', since).orderBy('started_at').orderBy('name').execute()).map(toRun);
    },

    databaseNow: () => databaseNow(db, opts.locking ? 'postgres' : 'sqlite'),
  };
}
