import type { Selectable } from 'kysely';
import type { JobsTable } from '../storage/schema.ts';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { JobRecord, JobStore } from './store.ts';

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
      if (!opts.locking) {
        const rows = await db.updateTable('jobs').set(claimable)
          .where('name', 'in', names).where('next_run_at', '<=', now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
          .returningAll().execute();
        return rows.map(toJob).sort((a, b) => a.name.localeCompare(b.name));
      }
      return uow.run(async (tx) => {
        const due = (await tx.selectFrom('jobs').select('name')
          .where('name', 'in', names).where('next_run_at', '<=', now)
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
          .orderBy('name').forUpdate().skipLocked().execute()).map((r) => r.name);
        if (due.length === 0) return [];
        const rows = await tx.updateTable('jobs').set(claimable).where('name', 'in', due).returningAll().execute();
        return rows.map(toJob).sort((a, b) => a.name.localeCompare(b.name));
      });
    },

    async renew(name, owner, startedAt, leaseUntil) {
      const r = await db.updateTable('jobs').set({ lease_until: leaseUntil })
        .where('name', '=', name).where('lease_owner', '=', owner).where('last_started_at', '=', startedAt)
        .where('lease_until', 'is not', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async finish(name, owner, startedAt, result) {
      // lease_owner stays: with the lease cleared it tells an operator which node ran the job last.
      const r = await db.updateTable('jobs').set((eb) => ({
        lease_until: null, next_run_at: result.nextRunAt, last_finished_at: result.finishedAt,
        last_error: result.error ?? null, run_count: eb('run_count', '+', 1),
      })).where('name', '=', name).where('lease_owner', '=', owner).where('last_started_at', '=', startedAt)
        .where('lease_until', 'is not', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}
