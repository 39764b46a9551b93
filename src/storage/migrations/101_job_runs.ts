import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Every run of a periodic job, as it started and ended, whichever node ran it: the jobs row keeps
 * only the last run and counts the runs its lease holder finished, so two nodes running one job at
 * once (one stalled past its lease) could not be seen. A run's row is written with its claim and
 * ended with its finish, even one whose claim was lost meanwhile. Kept for a week.
 */
export const jobRuns: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('job_runs')
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('owner', 'varchar(128)', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('due_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('error', 'text')
      .addPrimaryKeyConstraint('job_runs_pk', ['name', 'started_at', 'owner'])
      .execute();
    await db.schema.createIndex('job_runs_started').on('job_runs').column('started_at').execute();
  },
};
