import type { UnitOfWork } from '../storage/unit-of-work.ts';
import { prepare } from '../storage/prepared.ts';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, PostingsTable } from '../storage/schema.ts';
import type { Currency } from '../money/money.ts';
import type { Operation, OperationKind, OperationStatus } from '../payments/model.ts';
import type { AccountKind, Phase, Posting } from './model.ts';
import type { LedgerStore, PaymentOperations } from './store.ts';

export const toPosting = (r: PostingsTable): Posting => ({
  id: r.id, transferId: r.transfer_id, operationId: r.operation_id, paymentId: r.payment_id, merchantId: r.merchant_id,
  currency: r.currency, pspAccountId: r.psp_account_id, debit: r.debit_account as AccountKind, credit: r.credit_account as AccountKind,
  amount: Number(r.amount), phase: r.phase as Phase, leg: r.leg, createdAt: Number(r.created_at),
});

/** One implementation over Kysely for both stores. */
export function createLedgerStore(uow: UnitOfWork): LedgerStore {
  const { db } = uow;
  // Every payment change posts a few rows: compiled once per row count (storage/prepared.ts).
  const insertRows = prepare(db, (q, p: { rows: Selectable<PostingsTable>[] }) => q.insertInto('postings').values(p.rows)
    .onConflict((oc) => oc.columns(['operation_id', 'phase', 'leg']).doNothing()));
  return {
    writer(tx) {
      return {
        async post(postings) {
          // A settlement report posts thousands at once: rows per statement stay under SQLite's variable limit.
          for (let i = 0; i < postings.length; i += 1000) await insert(postings.slice(i, i + 1000));
        },
      };
      async function insert(postings: readonly Posting[]) {
        await insertRows.later(tx, { rows: postings.map((p) => ({
          id: p.id, transfer_id: p.transferId, operation_id: p.operationId, payment_id: p.paymentId, merchant_id: p.merchantId,
          currency: p.currency, psp_account_id: p.pspAccountId, debit_account: p.debit, credit_account: p.credit,
          amount: p.amount, phase: p.phase, leg: p.leg, created_at: p.createdAt,
        })) });
      }
    },
    postings: (filter = {}) => postingsOf(db, filter),
    async sums(merchantId) {
      const rows = await db.selectFrom('postings')
        .select(['merchant_id', 'currency', 'psp_account_id', 'debit_account', 'credit_account', sql<number | string>`sum(amount)`.as('amount')])
        .where('merchant_id', '=', merchantId).groupBy(['merchant_id', 'currency', 'psp_account_id', 'debit_account', 'credit_account']).execute();
      return rows.map((r) => ({
        merchantId: r.merchant_id, currency: r.currency, pspAccountId: r.psp_account_id,
        debit: r.debit_account as AccountKind, credit: r.credit_account as AccountKind, amount: Number(r.amount),
      }));
    },
    async books() {
      // One snapshot for both reads: a payment committed between them would show its operations
      // without its postings (or a capture's postings without the capture) and fail `verify`.
      const read = async (q: Kysely<Database>) => ({ postings: await postingsOf(q, {}), payments: await paymentsWithOperationsOf(q) });
      if (uow.kind === 'postgres') return db.transaction().setIsolationLevel('repeatable read').execute(read);
      // SQLite: a deferred transaction reads one snapshot of the WAL and takes no write lock.
      return db.connection().execute(async (c) => {
        await sql`begin deferred`.execute(c);
        try { return await read(c); } finally { await sql`rollback`.execute(c); }
      });
    },
  };
}

async function postingsOf(db: Kysely<Database>, filter: { merchantId?: string; paymentId?: string }): Promise<Posting[]> {
  // In the order the operations were made (several can share a millisecond), then leg by leg; a
  // left join, so a posting whose operation is gone still shows (and fails `verify`).
  let q = db.selectFrom('postings').leftJoin('transactions', 'transactions.id', 'postings.operation_id').selectAll('postings');
  if (filter.merchantId !== undefined) q = q.where('postings.merchant_id', '=', filter.merchantId);
  const paymentId = filter.paymentId;
  if (paymentId !== undefined) {
    q = q.where('postings.operation_id', 'in', (eb) => eb.selectFrom('transactions as ops').select('ops.id').where('ops.payment_id', '=', paymentId));
  }
  const rows = await q.orderBy('postings.created_at').orderBy('transactions.created_at').orderBy('postings.payment_id')
    .orderBy('transactions.seq').orderBy('postings.leg').execute();
  return rows.map(toPosting);
}

async function paymentsWithOperationsOf(db: Kysely<Database>): Promise<PaymentOperations[]> {
  const payments = await db.selectFrom('payments').select(['id', 'merchant_id']).orderBy('created_at').orderBy('id').execute();
  const ops = await db.selectFrom('transactions')
    .select(['id', 'payment_id', 'type', 'status', 'amount', 'currency', 'referenced_id', 'created_at'])
    .orderBy('payment_id').orderBy('seq').execute();
  const byPayment = new Map<string, Operation[]>();
  for (const r of ops) {
    const list = byPayment.get(r.payment_id) ?? [];
    list.push({
      id: r.id, paymentId: r.payment_id, kind: r.type as OperationKind, status: r.status as OperationStatus,
      amount: { amount: Number(r.amount), currency: r.currency as Currency }, referencedId: r.referenced_id ?? undefined,
      createdAt: Number(r.created_at),
    });
    byPayment.set(r.payment_id, list);
  }
  return payments.map((p): PaymentOperations => ({ payment: { id: p.id, merchantId: p.merchant_id }, operations: byPayment.get(p.id) ?? [] }));
}
