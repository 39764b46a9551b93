import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Periodic work (the reconciler, sweeps, purges) as rows every node polls: a node claims a due
 * job by taking its lease, runs it, then records the run and the next due time. A lease that
 * lapses (its node died) lets another node take the job.
 */
export const jobs: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('jobs')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('next_run_at', 'bigint', (c) => c.notNull())
      .addColumn('lease_owner', 'varchar(64)')
      .addColumn('lease_until', 'bigint')
      .addColumn('last_started_at', 'bigint')
      .addColumn('last_finished_at', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('run_count', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
