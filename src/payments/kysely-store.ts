import type { Kysely, Selectable, Transaction as KyselyTx } from 'kysely';
import type { Database, PaymentsTable, TransactionsTable } from '../storage/schema.ts';
import { addEventRow } from '../storage/outbox-row.ts';
import { cardRow, instrumentRow } from '../vault/kysely-store.ts';
import type { Currency } from '../money/money.ts';
import type { PaymentStatus, TransactionStatus, TransactionType } from './model.ts';
import type { OutboxEvent, PaymentMethod, PaymentRecord, PaymentStore, PaymentWriter, TransactionRecord } from './store.ts';

const toPayment = (r: Selectable<PaymentsTable>): PaymentRecord => ({
  id: r.id, merchantId: r.merchant_id, entityId: r.entity_id, initialType: r.initial_type,
  status: r.status as PaymentStatus, amount: r.amount, currency: r.currency, cardId: r.card_id ?? undefined,
  method: r.method as PaymentMethod,
  mode: r.mode, version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
});

const toTransaction = (r: Selectable<TransactionsTable>): TransactionRecord => ({
  id: r.id, paymentId: r.payment_id, seq: r.seq, merchantId: r.merchant_id, entityId: r.entity_id,
  type: r.type as TransactionType, status: r.status as TransactionStatus,
  amount: { amount: r.amount, currency: r.currency as Currency },
  referencedId: r.referenced_id ?? undefined, resultCode: r.result_code ?? undefined,
  pspReference: r.psp_reference ?? undefined, merchantTransactionId: r.merchant_transaction_id ?? undefined,
  shortId: r.short_id, echo: JSON.parse(r.echo), details: JSON.parse(r.details),
  createdAt: r.created_at, updatedAt: r.updated_at,
});


/** One implementation over Kysely for both stores; `locking` adds FOR UPDATE where the database has it. */
export function createPaymentStore(db: Kysely<Database>, opts: { locking: boolean }): PaymentStore {
  const txOf = (q: Kysely<Database> | KyselyTx<Database>, paymentId: string) =>
    q.selectFrom('transactions').selectAll().where('payment_id', '=', paymentId)
      .orderBy('seq').execute();

  function writer(tx: KyselyTx<Database>): PaymentWriter {
    return {
      async lock(paymentId) {
        let q = tx.selectFrom('payments').selectAll().where('id', '=', paymentId);
        if (opts.locking) q = q.forUpdate();
        const p = await q.executeTakeFirst();
        if (!p) return undefined;
        return { payment: toPayment(p), transactions: (await txOf(tx, paymentId)).map(toTransaction) };
      },
      async merchantTransactionIdTaken(entityId, mtx) {
        const r = await tx.selectFrom('transactions').select('id').where('entity_id', '=', entityId)
          .where('merchant_transaction_id', '=', mtx).limit(1).executeTakeFirst();
        return r !== undefined;
      },
      async insertCard(card) {
        await tx.insertInto('cards').values(cardRow(card)).execute();
      },
      async insertInstrument(i) {
        await tx.insertInto('instruments').values(instrumentRow(i)).execute();
      },
      async insertPayment(p) {
        await tx.insertInto('payments').values({
          id: p.id, merchant_id: p.merchantId, entity_id: p.entityId, initial_type: p.initialType, status: p.status,
          currency: p.currency, amount: p.amount, card_id: p.cardId ?? null, method: p.method, mode: p.mode, version: p.version,
          created_at: p.createdAt, updated_at: p.updatedAt,
        }).execute();
      },
      async insertTransaction(t) {
        await tx.insertInto('transactions').values({
          id: t.id, payment_id: t.paymentId, seq: t.seq, merchant_id: t.merchantId, entity_id: t.entityId, type: t.type,
          status: t.status, amount: t.amount.amount, currency: t.amount.currency, result_code: t.resultCode ?? null,
          psp_reference: t.pspReference ?? null, referenced_id: t.referencedId ?? null,
          merchant_transaction_id: t.merchantTransactionId ?? null, short_id: t.shortId,
          echo: JSON.stringify(t.echo), details: JSON.stringify(t.details), created_at: t.createdAt, updated_at: t.updatedAt,
        }).execute();
      },
      async settleTransaction(id, o) {
        await tx.updateTable('transactions').set({
          status: o.status, result_code: o.resultCode, psp_reference: o.pspReference ?? null,
          details: JSON.stringify(o.details), updated_at: o.at,
        }).where('id', '=', id).execute();
      },
      async resumeTransaction(id, details, at) {
        await tx.updateTable('transactions').set({ status: 'pending', result_code: null, details: JSON.stringify(details), updated_at: at })
          .where('id', '=', id).where('status', '=', 'awaiting').execute();
      },
      async updatePaymentStatus(id, status, at) {
        await tx.updateTable('payments').set((eb) => ({ status, updated_at: at, version: eb('version', '+', 1) }))
          .where('id', '=', id).execute();
      },
      addEvent: (e) => addEventRow(tx, e),
    };
  }

  return {
    write: (fn) => db.transaction().execute((tx) => fn(writer(tx))),
    async transaction(id) {
      const r = await db.selectFrom('transactions').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toTransaction(r) : undefined;
    },
    async payment(id) {
      const r = await db.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? toPayment(r) : undefined;
    },
    async transactionsOf(paymentId) {
      return (await txOf(db, paymentId)).map(toTransaction);
    },
    async byMerchantTransactionId(entityId, mtx, page) {
      let q = db.selectFrom('transactions').selectAll().where('entity_id', '=', entityId)
        .where('merchant_transaction_id', '=', mtx).orderBy('created_at').orderBy('payment_id').orderBy('seq');
      if (page) q = q.limit(page.limit).offset(page.offset);
      return (await q.execute()).map(toTransaction);
    },
    async countByMerchantTransactionId(entityId, mtx) {
      const r = await db.selectFrom('transactions').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('entity_id', '=', entityId).where('merchant_transaction_id', '=', mtx).executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    async unsettled(before, limit) {
      const rows = await db.selectFrom('transactions').selectAll()
        // Pending without a result code: the intent was recorded but the PSP's answer never was (a crash).
        .where((eb) => eb.or([eb('status', '=', 'unknown'), eb.and([eb('status', '=', 'pending'), eb('result_code', 'is', null)])]))
        .where('updated_at', '<', before).orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toTransaction);
    },
    async awaitingBefore(before, limit) {
      const rows = await db.selectFrom('transactions').selectAll().where('status', '=', 'awaiting')
        .where('updated_at', '<', before).orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toTransaction);
    },
    async bankTransfersAwaitingReceipt(before, limit) {
      const rows = await db.selectFrom('payments').selectAll().where('method', '=', 'bank_transfer')
        .where('status', '=', 'authorized').where('updated_at', '<', before).orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toPayment);
    },
  };
}
