import type { Clock } from '../../runtime/clock.ts';
import type { UnitOfWork } from '../../storage/unit-of-work.ts';
import type { Outcome } from '../outcome.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

/**
 * Where the simulated acquirer keeps the answers it processed and then lost, for a lookup from any
 * node (or after a restart): what a real PSP's status API reads from its own database.
 */
export interface LostAnswers {
  keep(attemptId: string, answer: Answer): Promise<void>;
  answer(attemptId: string): Promise<Answer | undefined>;
}

/** A week: the reconciler asks about a lost answer within minutes; a sandbox's rows do not pile up. */
const keptMs = 7 * 24 * 3_600_000;

export function createLostAnswers(uow: UnitOfWork, clock: Clock): LostAnswers {
  return {
    async keep(attemptId, answer) {
      const now = clock.now();
      await uow.run(async (tx) => {
        // Written only for an answer lost on purpose (a test card, a timeout rate): the rare write
        // also clears what is past its week, so no job is needed to bound the table.
        await tx.deleteFrom('simulator_answers').where('created_at', '<', now - keptMs).execute();
        await tx.insertInto('simulator_answers').values({ attempt_id: attemptId, answer: JSON.stringify(answer), created_at: now })
          .onConflict((oc) => oc.column('attempt_id').doNothing()).execute();
      });
    },
    async answer(attemptId) {
      const r = await uow.db.selectFrom('simulator_answers').select('answer').where('attempt_id', '=', attemptId).executeTakeFirst();
      return r ? JSON.parse(r.answer) as Answer : undefined;
    },
  };
}
