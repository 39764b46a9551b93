import type { Selectable } from 'kysely';
import type { Currency } from '../money/money.ts';
import type { LateApprovalsTable } from '../storage/schema.ts';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { LateApproval, LateApprovalStatus, LateApprovalStore, Reversal } from './late-approvals.ts';
import type { OperationKind } from './model.ts';

const toLateApproval = (r: Selectable<LateApprovalsTable>): LateApproval => ({
  attemptId: r.attempt_id, paymentId: r.payment_id, merchantId: r.merchant_id, accountId: r.account_id,
  operation: r.operation as OperationKind, pspReference: r.psp_reference ?? undefined,
  originalReference: r.original_reference ?? undefined, amount: { amount: Number(r.amount), currency: r.currency as Currency },
  live: r.live === 1, reversal: (r.reversal ?? undefined) as Reversal | undefined, reversalId: r.reversal_id, inDoubt: r.in_doubt === 1,
  triedAt: r.tried_at === null ? undefined : Number(r.tried_at), sends: r.sends,
  status: r.status as LateApprovalStatus, refusals: r.refusals, nextTryAt: Number(r.next_try_at),
  lastResult: r.last_result ?? undefined, foundAt: Number(r.found_at), updatedAt: Number(r.updated_at),
});

/** What still calls for money to go back: a try to come, or an operator. */
const open: LateApprovalStatus[] = ['reversing', 'operator'];

/** One implementation over Kysely for both stores: single statements, no transaction of their own. */
export function createLateApprovalStore(uow: UnitOfWork): LateApprovalStore {
  const { db } = uow;
  return {
    async record(a) {
      const r = await db.insertInto('late_approvals').values({
        attempt_id: a.attemptId, payment_id: a.paymentId, merchant_id: a.merchantId, account_id: a.accountId,
        operation: a.operation, psp_reference: a.pspReference ?? null, original_reference: a.originalReference ?? null,
        amount: a.amount.amount, currency: a.amount.currency, live: a.live ? 1 : 0, reversal: a.reversal ?? null,
        reversal_id: a.reversalId, in_doubt: a.inDoubt ? 1 : 0, tried_at: a.triedAt ?? null, sends: a.sends, status: a.status, refusals: a.refusals, next_try_at: a.nextTryAt,
        last_result: a.lastResult ?? null, found_at: a.foundAt, updated_at: a.updatedAt,
      }).onConflict((oc) => oc.column('attempt_id').doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
    },

    async get(attemptId) {
      const r = await db.selectFrom('late_approvals').selectAll().where('attempt_id', '=', attemptId).executeTakeFirst();
      return r && toLateApproval(r);
    },

    async byReversalId(reversalId) {
      const r = await db.selectFrom('late_approvals').selectAll().where('reversal_id', '=', reversalId).executeTakeFirst();
      return r && toLateApproval(r);
    },

    async due(now, limit) {
      return (await db.selectFrom('late_approvals').selectAll()
        .where('status', '=', 'reversing').where('next_try_at', '<=', now)
        .orderBy('next_try_at').orderBy('attempt_id').limit(limit).execute()).map(toLateApproval);
    },

    async update(attemptId, from, change) {
      // Conditional on the row as it was read: a pass on another node that already moved it wins.
      const r = await db.updateTable('late_approvals').set({
        status: change.status, reversal_id: change.reversalId, in_doubt: change.inDoubt ? 1 : 0, tried_at: change.triedAt ?? null, sends: change.sends, refusals: change.refusals, next_try_at: change.nextTryAt,
        last_result: change.lastResult ?? null, updated_at: change.updatedAt,
      }).where('attempt_id', '=', attemptId).where('status', '=', from.status).where('updated_at', '=', from.updatedAt)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async unsettled() {
      const r = await db.selectFrom('late_approvals').select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('status', 'in', open).executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async list(options) {
      let q = db.selectFrom('late_approvals').selectAll();
      if (options.open) q = q.where('status', 'in', open);
      return (await q.orderBy('found_at', 'desc').orderBy('attempt_id', 'desc').limit(options.limit).execute()).map(toLateApproval);
    },

    async resolve(attemptId, note, at) {
      const r = await db.updateTable('late_approvals').set({ status: 'resolved', last_result: `resolved by an operator: ${note}`, updated_at: at })
        .where('attempt_id', '=', attemptId).where('status', 'in', open).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}
