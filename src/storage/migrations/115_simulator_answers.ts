import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * The answers the simulated acquirer processed and then lost on the way back (the "answer never
 * arrives" test card, an account's timeout rate), kept where every node reads them. Its memory is per
 * process: on a cluster the reconciler, on whichever node holds its job, asked a simulator that had
 * never seen the attempt and settled as failed a payment the test system had approved; a restarted
 * node forgot them too. Rows older than a week are removed as new ones are written.
 */
export const simulatorAnswers: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('simulator_answers')
      .addColumn('attempt_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('answer', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('simulator_answers_created').on('simulator_answers').column('created_at').execute();
  },
};
