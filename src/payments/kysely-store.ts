import { sql, type Kysely, type Selectable } from 'kysely';
import type { AttemptsTable, Database, PaymentsTable, TransactionsTable } from '../storage/schema.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import type { Currency } from '../money/money.ts';
import type { DeclineReason, InitialKind, OperationKind, OperationStatus, PaymentStatus } from './model.ts';
import type { AttemptRecord, Channel, OperationRecord, PaymentMethod, PaymentRecord, PaymentStore, PaymentWriter } from './store.ts';

const toPayment = (r: Selectable<PaymentsTable>): PaymentRecord => ({
  id: r.id, merchantId: r.merchant_id, channel: r.channel as Channel, entityId: r.entity_id ?? undefined,
  initialKind: r.initial_type as InitialKind, status: r.status as PaymentStatus, amount: r.amount, currency: r.currency,
  cardId: r.card_id ?? undefined, method: r.method as PaymentMethod, live: r.mode === 'live',
  pspAccountId: r.psp_account_id ?? undefined, workflowCode: r.workflow_code ?? undefined,
  version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
});

const toOperation = (r: Selectable<TransactionsTable>): OperationRecord => ({
  id: r.id, paymentId: r.payment_id, seq: r.seq, merchantId: r.merchant_id, entityId: r.entity_id ?? undefined,
  kind: r.type as OperationKind, status: r.status as OperationStatus,
  amount: { amount: r.amount, currency: r.currency as Currency },
  referencedId: r.referenced_id ?? undefined, resultCode: r.result_code ?? undefined, reason: (r.reason ?? undefined) as DeclineReason | undefined,
  pspReference: r.psp_reference ?? undefined, merchantTransactionId: r.merchant_transaction_id ?? undefined,
  shortId: r.short_id, context: JSON.parse(r.echo), details: JSON.parse(r.details), unknownSince: r.unknown_since ?? undefined,
  createdAt: r.created_at, updatedAt: r.updated_at,
});

const toAttempt = (r: Selectable<AttemptsTable>): AttemptRecord => ({
  id: r.id, paymentId: r.payment_id, operationId: r.transaction_id, seq: r.seq, accountId: r.account_id, accountName: r.account_name,
  connector: r.connector, authenticated: r.authenticated === 1, status: r.status as OperationStatus,
  reason: (r.reason ?? undefined) as DeclineReason | undefined, resultCode: r.result_code ?? undefined,
  pspReference: r.psp_reference ?? undefined, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** One implementation over Kysely for both stores; on PostgreSQL `lock` takes the payment's row lock. */
export function createPaymentStore(uow: UnitOfWork): PaymentStore {
  const { db } = uow;
  const locking = uow.kind === 'postgres';
  const operationsOf = (q: Kysely<Database> | Tx, paymentId: string) =>
    q.selectFrom('transactions').selectAll().where('payment_id', '=', paymentId).orderBy('seq').execute();
  // Through the operations' ids: the attempts' primary key (operation, seq) serves it, no index of their own.
  const attemptsOf = (q: Kysely<Database> | Tx, paymentId: string) =>
    q.selectFrom('attempts').selectAll()
      .where('transaction_id', 'in', (eb) => eb.selectFrom('transactions').select('id').where('payment_id', '=', paymentId))
      .orderBy('created_at').orderBy('seq').execute();

  function writer(tx: Tx): PaymentWriter {
    return {
      async lock(paymentId) {
        let q = tx.selectFrom('payments').selectAll().where('id', '=', paymentId);
        if (locking) q = q.forUpdate();
        const p = await q.executeTakeFirst();
        if (!p) return undefined;
        return {
          payment: toPayment(p),
          operations: (await operationsOf(tx, paymentId)).map(toOperation),
          attempts: (await attemptsOf(tx, paymentId)).map(toAttempt),
        };
      },
      async insertPayment(p) {
        await tx.insertInto('payments').values({
          id: p.id, merchant_id: p.merchantId, channel: p.channel, entity_id: p.entityId ?? null, initial_type: p.initialKind,
          status: p.status, currency: p.currency, amount: p.amount, card_id: p.cardId ?? null, method: p.method,
          mode: p.live ? 'live' : 'test', psp_account_id: p.pspAccountId ?? null, workflow_code: p.workflowCode ?? null,
          version: p.version, created_at: p.createdAt, updated_at: p.updatedAt,
        }).execute();
      },
      async insertOperation(o, options = {}) {
        const row = {
          id: o.id, payment_id: o.paymentId, seq: o.seq, merchant_id: o.merchantId, entity_id: o.entityId ?? null, type: o.kind,
          status: o.status, amount: o.amount.amount, currency: o.amount.currency, result_code: o.resultCode ?? null,
          psp_reference: o.pspReference ?? null, referenced_id: o.referencedId ?? null,
          merchant_transaction_id: o.merchantTransactionId ?? null, short_id: o.shortId, reason: o.reason ?? null,
          unique_mtx: options.uniqueMerchantTransactionId && o.merchantTransactionId !== undefined ? 1 : null,
          unknown_since: o.unknownSince ?? null,
          echo: JSON.stringify(o.context), details: JSON.stringify(o.details), created_at: o.createdAt, updated_at: o.updatedAt,
        };
        if (row.unique_mtx === null) {
          await tx.insertInto('transactions').values(row).execute();
          return true;
        }
        // The unique index decides between concurrent requests on every node; ON CONFLICT keeps
        // PostgreSQL's transaction usable so the caller can answer "duplicate".
        const r = await tx.insertInto('transactions').values(row)
          .onConflict((oc) => oc.columns(['entity_id', 'merchant_transaction_id']).where(sql.ref('unique_mtx'), '=', sql.lit(1)).doNothing())
          .executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
      },
      async settleOperation(id, s, unknownSince) {
        await tx.updateTable('transactions').set({
          status: s.status, result_code: s.resultCode ?? null, reason: s.reason ?? null, psp_reference: s.pspReference ?? null,
          details: JSON.stringify(s.details), updated_at: s.at, unknown_since: unknownSince ?? null,
        }).where('id', '=', id).execute();
      },
      async resumeOperation(id, details, at) {
        await tx.updateTable('transactions').set({ status: 'pending', result_code: null, reason: null, details: JSON.stringify(details), updated_at: at })
          .where('id', '=', id).where('status', '=', 'awaiting').execute();
      },
      async touchOperation(id, at) {
        await tx.updateTable('transactions').set({ updated_at: at }).where('id', '=', id).execute();
      },
      async updatePayment(id, change, at) {
        await tx.updateTable('payments').set((eb) => ({
          status: change.status, updated_at: at, version: eb('version', '+', 1),
          ...('pspAccountId' in change ? { psp_account_id: change.pspAccountId ?? null } : {}),
        })).where('id', '=', id).execute();
      },
      async insertAttempt(a) {
        // Only the (operation, seq) slot may be taken by another node; any other clash is a bug and throws.
        const r = await tx.insertInto('attempts').values({
          id: a.id, payment_id: a.paymentId, transaction_id: a.operationId, seq: a.seq, account_id: a.accountId,
          account_name: a.accountName, connector: a.connector, authenticated: a.authenticated ? 1 : 0, status: a.status,
          reason: a.reason ?? null, result_code: a.resultCode ?? null, psp_reference: a.pspReference ?? null,
          created_at: a.createdAt, updated_at: a.updatedAt,
        }).onConflict((oc) => oc.columns(['transaction_id', 'seq']).doNothing()).executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
      },
      async settleAttempt(a, s) {
        await tx.updateTable('attempts').set({
          status: s.status, reason: s.reason ?? null, result_code: s.resultCode ?? null, psp_reference: s.pspReference ?? null, updated_at: s.at,
        }).where('transaction_id', '=', a.operationId).where('seq', '=', a.seq).execute();
      },
    };
  }

  return {
    writer,
    async operation(id) {
      const r = await db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toOperation(r) : undefined;
    },
    async payment(id) {
      const r = await db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toPayment(r) : undefined;
    },
    async operationsOf(paymentId) {
      return (await operationsOf(db, paymentId)).map(toOperation);
    },
    async attempt(id) {
      const r = await db.selectFrom('attempts').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toAttempt(r) : undefined;
    },
    async attemptsOf(paymentId) {
      return (await attemptsOf(db, paymentId)).map(toAttempt);
    },
    async byMerchantTransactionId(entityId, mtx, page) {
      let q = db.selectFrom('transactions').selectAll().where('entity_id', '=', entityId)
        .where('merchant_transaction_id', '=', mtx).orderBy('created_at').orderBy('payment_id').orderBy('seq');
      if (page) q = q.limit(page.limit).offset(page.offset);
      return (await q.execute()).map(toOperation);
    },
    async countByMerchantTransactionId(entityId, mtx) {
      const r = await db.selectFrom('transactions').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('entity_id', '=', entityId).where('merchant_transaction_id', '=', mtx).executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    async openOperations(before, limit) {
      const rows = await db.selectFrom('transactions').selectAll().where('status', 'in', ['pending', 'unknown'])
        .where('updated_at', '<', before).orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toOperation);
    },
    async awaitingBefore(before, limit) {
      const rows = await db.selectFrom('transactions').selectAll().where('status', '=', 'awaiting')
        .where('updated_at', '<', before).orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toOperation);
    },
    async bankTransfersAwaitingReceipt(before, limit) {
      const rows = await db.selectFrom('payments').selectAll().where('method', '=', 'bank_transfer')
        .where('status', '=', 'authorized').where('updated_at', '<', before).orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toPayment);
    },
    async openHoldsBefore(before, after, limit) {
      let q = db.selectFrom('payments').leftJoin('cards', 'cards.id', 'payments.card_id').selectAll('payments').select('cards.brand')
        .where('payments.hold_released_at', 'is', null).where('payments.created_at', '<=', before)
        .where('payments.method', '=', 'card').where('payments.initial_type', '=', 'authorize').where('payments.status', 'in', ['authorized', 'captured']);
      if (after) {
        q = q.where((eb) => eb.or([eb('payments.created_at', '>', after.createdAt), eb.and([eb('payments.created_at', '=', after.createdAt), eb('payments.id', '>', after.id)])]));
      }
      const rows = await q.orderBy('payments.created_at').orderBy('payments.id').limit(limit).execute();
      return rows.map((r) => ({ ...toPayment(r), brand: r.brand ?? undefined }));
    },
    async markHoldReleased(paymentId, at) {
      await db.updateTable('payments').set({ hold_released_at: at }).where('id', '=', paymentId).where('hold_released_at', 'is', null).execute();
    },
  };
}
