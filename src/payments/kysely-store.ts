import { sql, type Kysely, type Selectable } from 'kysely';
import { prepare, type QueryRunner } from '../storage/prepared.ts';
import type { AttemptsTable, Database, PaymentsTable, TransactionsTable } from '../storage/schema.ts';
import { lockWaitBound } from '../storage/lock-wait.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import type { Currency } from '../money/money.ts';
import { accountLockKey } from '../workflows/model.ts';
import type { DeclineReason, InitialKind, OperationKind, OperationStatus, PaymentStatus } from './model.ts';
import type { AttemptRecord, Channel, OperationRecord, PaymentMethod, PaymentRecord, PaymentStore, PaymentWriter } from './store.ts';

type PaymentRow = Omit<Selectable<PaymentsTable>, 'hold_released_at' | 'receipt_settled_at'>;

// The conditions of the sweeps' partial indexes (migration 105), term for term and as literals:
// SQLite reads a partial index only for a query whose own terms prove its condition.
const openAuthorization = sql<boolean>`payments.hold_released_at is null and payments.initial_type = 'authorize' and payments.status not in ('pending', 'unknown', 'declined', 'reversed', 'credited')`;
const awaitingReceipt = sql<boolean>`payments.method = 'bank_transfer' and payments.status not in ('pending', 'unknown', 'declined', 'reversed', 'credited') and payments.receipt_settled_at is null`;
type OperationRow = Selectable<TransactionsTable>;
type AttemptRow = Selectable<AttemptsTable>;

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

/** Every column of an attempt, read beside its operation's columns under an `a_` name. */
const attemptColumns = [
  'id', 'payment_id', 'transaction_id', 'seq', 'account_id', 'account_name', 'connector', 'authenticated', 'status',
  'reason', 'result_code', 'psp_reference', 'created_at', 'updated_at',
] as const satisfies readonly (keyof AttemptsTable)[];
// A column added to the attempts table fails to compile here until it is read above.
type UnreadAttemptColumn = Exclude<keyof AttemptsTable, (typeof attemptColumns)[number]>;
const everyAttemptColumnRead: [UnreadAttemptColumn] extends [never] ? true : UnreadAttemptColumn = true;
void everyAttemptColumnRead;

const attemptAliases = attemptColumns.map((c) => [c, `a_${c}`] as const);

/** The attempt of a joined row (whose `a_id` is not null: the left join found one). */
function attemptOf(row: { readonly [column: string]: unknown }): AttemptRow {
  const out: Record<string, unknown> = {};
  for (const [column, alias] of attemptAliases) out[column] = row[alias];
  return out as unknown as AttemptRow;
}

/**
 * Whether a PSP account holds money's business: a payment authorized there (its follow-ups go
 * there), an attempt there its PSP may still decide, or a late approval being reversed there. Over
 * `q`, a unit of work's transaction where the answer decides a write (an account's removal).
 */
export async function pspAccountInUse(q: Kysely<Database>, id: string): Promise<boolean> {
  if (await q.selectFrom('payments').select('id').where('psp_account_id', '=', id).limit(1).executeTakeFirst()) return true;
  // An attempt whose end the PSP may still decide (its answer lost, pending, a challenge at the
  // PSP), or that the gateway ended while the PSP may yet approve it: a payment's authorization
  // is at the account before its payment records the account.
  const attempt = await q.selectFrom('attempts').select('id').where('account_id', '=', id)
    .where((eb) => eb.or([eb('status', '<>', 'failed'), eb('reason', 'in', ['not_received', 'expired'])])).limit(1).executeTakeFirst();
  if (attempt) return true;
  return (await q.selectFrom('late_approvals').select('attempt_id').where('account_id', '=', id).where('status', '=', 'reversing').limit(1).executeTakeFirst()) !== undefined;
}

/** One implementation over Kysely for both stores; on PostgreSQL `lock` takes the payment's row lock. */
export function createPaymentStore(uow: UnitOfWork): PaymentStore {
  const { db } = uow;
  const locking = uow.kind === 'postgres';
  // The engine's statements, compiled once: each payment runs them with its own values (storage/prepared.ts).
  const paymentById = prepare(db, (q, p: { id: string }) => q.selectFrom('payments').selectAll().where('id', '=', p.id));
  const paymentForUpdate = locking
    ? prepare(db, (q, p: { id: string }) => q.selectFrom('payments').selectAll().where('id', '=', p.id).forUpdate())
    : paymentById;
  const operationById = prepare(db, (q, p: { id: string }) => q.selectFrom('transactions').selectAll().where('id', '=', p.id));
  const attemptById = prepare(db, (q, p: { id: string }) => q.selectFrom('attempts').selectAll().where('id', '=', p.id));
  const operationsOfPayment = prepare(db, (q, p: { paymentId: string }) =>
    q.selectFrom('transactions').selectAll().where('payment_id', '=', p.paymentId).orderBy('seq'));
  // Through the operations' ids: the attempts' primary key (operation, seq) serves it, no index of their own.
  const attemptsOfPayment = prepare(db, (q, p: { paymentId: string }) => q.selectFrom('attempts').selectAll()
    .where('transaction_id', 'in', (eb) => eb.selectFrom('transactions').select('id').where('payment_id', '=', p.paymentId))
    .orderBy('created_at').orderBy('seq').orderBy('id'));
  // The operations of a payment with their attempts, in one statement: `lock` runs it on every
  // change, where two statements cost PostgreSQL a second round trip (SQLite a second statement).
  const operationsWithAttempts = prepare(db, (q, p: { paymentId: string }) => q.selectFrom('transactions as t')
    .leftJoin('attempts as a', 'a.transaction_id', 't.id')
    .selectAll('t')
    .select(attemptColumns.map((c) => `a.${c} as a_${c}` as const))
    .where('t.payment_id', '=', p.paymentId)
    .orderBy('t.seq'));
  const insertPaymentRow = prepare(db, (q, p: PaymentRow) => q.insertInto('payments').values(p));
  const insertOperationRow = prepare(db, (q, p: OperationRow) => q.insertInto('transactions').values(p));
  // The unique index decides between concurrent requests on every node; ON CONFLICT keeps
  // PostgreSQL's transaction usable so the caller can answer "duplicate".
  const insertUniqueOperationRow = prepare(db, (q, p: OperationRow) => q.insertInto('transactions').values(p)
    .onConflict((oc) => oc.columns(['entity_id', 'merchant_transaction_id']).where(sql.ref('unique_mtx'), '=', sql.lit(1)).doNothing()));
  // An attempt at a PSP account holds the account against its removal until the unit commits
  // (PostgreSQL; SQLite's units run one at a time): the removal's check that no attempt is open
  // there waits for it, and sees it. A shared advisory lock, sent without waiting for its answer:
  // many payments take it at once, at no round trip and no row written.
  const holdAccount = locking
    ? prepare(db, (q, p: { key: string }) => q.selectNoFrom((eb) => eb.fn('pg_advisory_xact_lock_shared', [eb.fn('hashtext', [eb.val(p.key)])]).as('held')))
    : undefined;
  // Only the (operation, seq) slot may be taken by another node; any other clash is a bug and throws.
  const insertAttemptRow = prepare(db, (q, p: AttemptRow) => q.insertInto('attempts').values(p)
    .onConflict((oc) => oc.columns(['transaction_id', 'seq']).doNothing()));
  // An operation this unit inserted is seen by no other transaction until the unit commits, so no
  // node can have taken a slot of its: its attempt needs no answer and is held like any blind write
  // (on PostgreSQL one round trip fewer per payment). Without ON CONFLICT, a clash would be a bug,
  // and it fails the unit at its next read or COMMIT.
  const insertFreshAttemptRow = prepare(db, (q, p: AttemptRow) => q.insertInto('attempts').values(p));
  const settleOperationRow = prepare(db, (q, p: {
    id: string; status: string; result_code: string | null; reason: string | null; psp_reference: string | null;
    details: string; updated_at: number; unknown_since: number | null;
  }) => q.updateTable('transactions').set({
    status: p.status, result_code: p.result_code, reason: p.reason, psp_reference: p.psp_reference,
    details: p.details, updated_at: p.updated_at, unknown_since: p.unknown_since,
  }).where('id', '=', p.id));
  const resumeOperationRow = prepare(db, (q, p: { id: string; details: string; at: number }) => q.updateTable('transactions')
    .set({ status: 'pending', result_code: null, reason: null, details: p.details, updated_at: p.at })
    .where('id', '=', p.id).where('status', '=', 'awaiting'));
  const touchOperationRow = prepare(db, (q, p: { id: string; at: number }) => q.updateTable('transactions').set({ updated_at: p.at }).where('id', '=', p.id));
  // `psp_account_id` absent (undefined) leaves the column alone: a shape of its own, compiled apart.
  const updatePaymentRow = prepare(db, (q, p: { id: string; status: string; at: number; psp_account_id?: string | null }) => q.updateTable('payments')
    .set((eb) => ({ status: p.status, updated_at: p.at, version: eb('version', '+', 1), psp_account_id: p.psp_account_id }))
    .where('id', '=', p.id));
  const settleAttemptRow = prepare(db, (q, p: {
    operationId: string; seq: number; status: string; reason: string | null; result_code: string | null; psp_reference: string | null; at: number;
  }) => q.updateTable('attempts').set({
    status: p.status, reason: p.reason, result_code: p.result_code, psp_reference: p.psp_reference, updated_at: p.at,
  }).where('transaction_id', '=', p.operationId).where('seq', '=', p.seq));

  const operationsOf = (q: QueryRunner, paymentId: string) => operationsOfPayment.rows(q, { paymentId });
  const attemptsOf = (q: QueryRunner, paymentId: string) => attemptsOfPayment.rows(q, { paymentId });

  function writer(tx: Tx): PaymentWriter {
    /** The operations this unit inserted. */
    const inserted = new Set<string>();
    return {
      async lock(paymentId) {
        // Sent ahead: the joined read goes out with it, and PostgreSQL runs it once the lock is
        // taken, so it sees what the lock's previous holder committed (one round trip for both).
        // Both answers are always taken: a failure of either fails the unit here, with its own
        // error (a failed lock's comes first; the joined read then only finds the transaction aborted).
        // A background pass waits for the lock a bounded time (storage/lock-wait.ts); the session's
        // own bound (the unit deadline) is back once the lock is held. A lock not had in time fails
        // the unit (or its savepoint), and the rollback undoes the setting with it.
        const bound = locking ? lockWaitBound() : undefined;
        if (bound !== undefined) await sql`select set_config('lock_timeout', ${String(bound)}, true)`.execute(tx);
        const payment = await paymentForUpdate.ahead(tx, { id: paymentId });
        const [locked, joined] = await Promise.all([payment(), operationsWithAttempts.rows(tx, { paymentId })]);
        if (bound !== undefined) await sql`set local lock_timeout to default`.execute(tx);
        const p = locked[0];
        if (!p) return undefined;
        const operations: OperationRecord[] = [];
        const attempts: AttemptRecord[] = [];
        for (const row of joined) {
          // Ordered by the operation's seq, unique within the payment: an operation's rows are adjacent.
          if (operations.at(-1)?.id !== row.id) operations.push(toOperation(row));
          if (row.a_id !== null) attempts.push(toAttempt(attemptOf(row)));
        }
        // As `attemptsOf` orders them.
        // Ids are lowercase hex: `<` orders them as both databases do.
        attempts.sort((x, y) => x.createdAt - y.createdAt || x.seq - y.seq || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
        return { payment: toPayment(p), operations, attempts };
      },
      async insertPayment(p) {
        await insertPaymentRow.later(tx, {
          id: p.id, merchant_id: p.merchantId, channel: p.channel, entity_id: p.entityId ?? null, initial_type: p.initialKind,
          status: p.status, currency: p.currency, amount: p.amount, card_id: p.cardId ?? null, method: p.method,
          mode: p.live ? 'live' : 'test', psp_account_id: p.pspAccountId ?? null, workflow_code: p.workflowCode ?? null,
          version: p.version, created_at: p.createdAt, updated_at: p.updatedAt,
        });
      },
      async insertOperation(o, options = {}) {
        const row: OperationRow = {
          id: o.id, payment_id: o.paymentId, seq: o.seq, merchant_id: o.merchantId, entity_id: o.entityId ?? null, type: o.kind,
          status: o.status, amount: o.amount.amount, currency: o.amount.currency, result_code: o.resultCode ?? null,
          psp_reference: o.pspReference ?? null, referenced_id: o.referencedId ?? null,
          merchant_transaction_id: o.merchantTransactionId ?? null, short_id: o.shortId, reason: o.reason ?? null,
          unique_mtx: options.uniqueMerchantTransactionId && o.merchantTransactionId !== undefined ? 1 : null,
          unknown_since: o.unknownSince ?? null,
          echo: JSON.stringify(o.context), details: JSON.stringify(o.details), created_at: o.createdAt, updated_at: o.updatedAt,
        };
        if (row.unique_mtx === null) await insertOperationRow.later(tx, row);
        else if ((await insertUniqueOperationRow.affected(tx, row)) !== 1) return false;
        inserted.add(o.id);
        return true;
      },
      async settleOperation(id, s, unknownSince) {
        await settleOperationRow.later(tx, {
          id, status: s.status, result_code: s.resultCode ?? null, reason: s.reason ?? null, psp_reference: s.pspReference ?? null,
          details: JSON.stringify(s.details), updated_at: s.at, unknown_since: unknownSince ?? null,
        });
      },
      async releaseReference(operationId) {
        await tx.updateTable('transactions').set({ unique_mtx: null }).where('id', '=', operationId).where('status', '=', 'failed').execute();
      },
      async resumeOperation(id, details, at) {
        await resumeOperationRow.later(tx, { id, details: JSON.stringify(details), at });
      },
      async touchOperation(id, at) {
        await touchOperationRow.later(tx, { id, at });
      },
      async setHoldReleased(paymentId, at) {
        await tx.updateTable('payments').set({ hold_released_at: at }).where('id', '=', paymentId).execute();
      },
      async setReceiptSettled(paymentId, at) {
        await tx.updateTable('payments').set({ receipt_settled_at: at }).where('id', '=', paymentId).where('receipt_settled_at', 'is', null).execute();
      },
      async chargedElsewhere(cardId, paymentId) {
        // Through the card's index (migration 080).
        return (await tx.selectFrom('payments').select('id').where('card_id', '=', cardId).where('id', '!=', paymentId).limit(1).executeTakeFirst()) !== undefined;
      },
      async updatePayment(id, change, at) {
        await updatePaymentRow.later(tx, {
          id, status: change.status, at,
          ...('pspAccountId' in change ? { psp_account_id: change.pspAccountId ?? null } : {}),
        });
      },
      async insertAttempt(a) {
        const row: AttemptRow = {
          id: a.id, payment_id: a.paymentId, transaction_id: a.operationId, seq: a.seq, account_id: a.accountId,
          account_name: a.accountName, connector: a.connector, authenticated: a.authenticated ? 1 : 0, status: a.status,
          reason: a.reason ?? null, result_code: a.resultCode ?? null, psp_reference: a.pspReference ?? null,
          created_at: a.createdAt, updated_at: a.updatedAt,
        };
        if (holdAccount) await holdAccount.later(tx, { key: accountLockKey(a.accountId) });
        if (inserted.has(a.operationId)) {
          await insertFreshAttemptRow.later(tx, row);
          return true;
        }
        return (await insertAttemptRow.affected(tx, row)) === 1;
      },
      async settleAttempt(a, s) {
        await settleAttemptRow.later(tx, {
          operationId: a.operationId, seq: a.seq, status: s.status, reason: s.reason ?? null, result_code: s.resultCode ?? null,
          psp_reference: s.pspReference ?? null, at: s.at,
        });
      },
    };
  }

  return {
    writer,
    async operation(id) {
      const r = await operationById.first(db, { id });
      return r ? toOperation(r) : undefined;
    },
    async payment(id) {
      const r = await paymentById.first(db, { id });
      return r ? toPayment(r) : undefined;
    },
    async operationsOf(paymentId) {
      return (await operationsOf(db, paymentId)).map(toOperation);
    },
    async attempt(id) {
      const r = await attemptById.first(db, { id });
      return r ? toAttempt(r) : undefined;
    },
    async attemptsOf(paymentId) {
      return (await attemptsOf(db, paymentId)).map(toAttempt);
    },
    async byMerchantTransactionId(entityId, mtx, page, kinds) {
      let q = db.selectFrom('transactions').selectAll().where('entity_id', '=', entityId)
        .where('merchant_transaction_id', '=', mtx).orderBy('created_at').orderBy('payment_id').orderBy('seq');
      if (kinds) q = kinds.length === 0 ? q.where(sql.lit(false)) : q.where('type', 'in', kinds);
      if (page) q = q.limit(page.limit).offset(page.offset);
      return (await q.execute()).map(toOperation);
    },
    async countByMerchantTransactionId(entityId, mtx, kinds) {
      let q = db.selectFrom('transactions').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('entity_id', '=', entityId).where('merchant_transaction_id', '=', mtx);
      if (kinds) q = kinds.length === 0 ? q.where(sql.lit(false)) : q.where('type', 'in', kinds);
      const r = await q.executeTakeFirst();
      return Number(r?.n ?? 0);
    },
    async paymentsByPspReference(accountId, pspReference) {
      const rows = await db.selectFrom('transactions').innerJoin('payments', 'payments.id', 'transactions.payment_id')
        .select('payments.id').distinct().where('transactions.psp_reference', '=', pspReference)
        .where('payments.psp_account_id', '=', accountId).limit(2).execute();
      return rows.map((r) => r.id);
    },
    async openOperations(before, limit, after) {
      let q = db.selectFrom('transactions').selectAll().where('status', 'in', ['pending', 'unknown']).where('updated_at', '<', before);
      if (after) {
        q = q.where((eb) => eb.or([eb('updated_at', '>', after.updatedAt), eb.and([eb('updated_at', '=', after.updatedAt), eb('id', '>', after.id)])]));
      }
      const rows = await q.orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toOperation);
    },
    async approvedWithCard(cardId) {
      // Through the card's index (migration 080): a card's payments are few.
      const row = await db.selectFrom('payments').select('id').where('card_id', '=', cardId)
        .where('status', 'not in', ['pending', 'unknown', 'declined', 'credited']).limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async firstChargeOpen(cardId, createdAt) {
      // Through the card's index (migration 080): a card's payments are few.
      const row = await db.selectFrom('payments').select('id').where('card_id', '=', cardId).where('created_at', '=', createdAt)
        .where('status', 'in', ['pending', 'unknown']).limit(1).executeTakeFirst();
      return row !== undefined;
    },
    async operationNamed(merchantId, reference) {
      // Through the primary key and the PSP reference's index, each read on its own.
      const byId = await db.selectFrom('transactions').selectAll().where('id', '=', reference).where('merchant_id', '=', merchantId).executeTakeFirst();
      const row = byId ?? await db.selectFrom('transactions').selectAll().where('psp_reference', '=', reference).where('merchant_id', '=', merchantId)
        .orderBy('created_at').limit(1).executeTakeFirst();
      return row ? toOperation(row) : undefined;
    },
    async capturesEndedBetween(status, from, to, after, limit) {
      // Through the (status, updated_at) index: a window of minutes reads what ended in it.
      let q = db.selectFrom('transactions').selectAll().where('status', '=', status)
        .where('updated_at', '>', from).where('updated_at', '<=', to).where('type', '=', 'capture');
      if (after) {
        q = q.where((eb) => eb.or([eb('updated_at', '>', after.updatedAt), eb.and([eb('updated_at', '=', after.updatedAt), eb('id', '>', after.id)])]));
      }
      const rows = await q.orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toOperation);
    },
    async awaitingBefore(before, limit) {
      const rows = await db.selectFrom('transactions').selectAll().where('status', '=', 'awaiting')
        .where('updated_at', '<', before).orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toOperation);
    },
    async bankTransfersAwaitingReceipt(before, limit) {
      // A transfer the shopper confirmed (a PA authorized, a DB captured) not yet marked confirmed by
      // a receipt, through the partial index of exactly those (migration 105): the caller marks
      // those it finds a receipt for.
      const rows = await db.selectFrom('payments').selectAll().where(awaitingReceipt).where('updated_at', '<', before)
        .orderBy('updated_at').orderBy('id').limit(limit).execute();
      return rows.map(toPayment);
    },
    async openHoldsBefore(before, after, limit) {
      // Through the partial index of authorizations that may still hold money (migration 105). A
      // part captured, then refunded or charged back, still leaves the uncaptured rest on hold.
      let q = db.selectFrom('payments').leftJoin('cards', 'cards.id', 'payments.card_id').selectAll('payments').select('cards.brand')
        .where(openAuthorization).where('payments.created_at', '<=', before)
        .where('payments.method', 'in', ['card', 'bank_transfer']);
      if (after) {
        q = q.where((eb) => eb.or([eb('payments.created_at', '>', after.createdAt), eb.and([eb('payments.created_at', '=', after.createdAt), eb('payments.id', '>', after.id)])]));
      }
      const rows = await q.orderBy('payments.created_at').orderBy('payments.id').limit(limit).execute();
      return rows.map((r) => ({ ...toPayment(r), brand: r.brand ?? undefined }));
    },
    async openWithCard(cardId) {
      // Any open operation, not the payment's status (its opening operation's): a rebill recorded
      // on a captured payment, still on its way to the PSP, charges the card too.
      const own = await db.selectFrom('payments as p').innerJoin('transactions as t', 't.payment_id', 'p.id').select('t.id')
        .where('p.card_id', '=', cardId).where('t.status', 'in', ['pending', 'awaiting', 'unknown']).limit(1).executeTakeFirst();
      if (own) return true;
      // A rebill on a renewed registration charges the registration's card of the day, named in its
      // context: found among the open operations (few at any time, through their status index).
      const charged = await db.selectFrom('transactions').select('id').where('status', 'in', ['pending', 'awaiting', 'unknown'])
        .where('type', '=', 'rebill').where('echo', 'like', `%"chargesCard":${JSON.stringify(cardId)}%`).limit(1).executeTakeFirst();
      return charged !== undefined;
    },
  };
}
