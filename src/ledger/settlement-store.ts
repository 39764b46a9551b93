import { sql, type Selectable } from 'kysely';
import type { UnitOfWork } from '../storage/unit-of-work.ts';
import type { SettlementDiscrepanciesTable } from '../storage/schema.ts';
import { defaultPspAccount, type Posting } from './model.ts';
import { toPosting } from './kysely-store.ts';
import type { DiscrepancyRecord, SettlementStore } from './store.ts';
import { settledKeyOf, type LateApprovalReference } from './reconciliation.ts';

const chunk = 500;
function* chunks<T>(list: readonly T[]): Generator<T[]> {
  for (let i = 0; i < list.length; i += chunk) yield list.slice(i, i + chunk);
}

const toDiscrepancy = (r: Selectable<SettlementDiscrepanciesTable>): DiscrepancyRecord => ({
  id: r.id, reportId: r.report_id, pspAccountId: r.psp_account_id, merchantId: r.merchant_id ?? undefined, kind: r.kind, reference: r.reference,
  paymentId: r.payment_id ?? undefined, operationId: r.operation_id ?? undefined, currency: r.currency,
  expected: r.expected_amount === null ? undefined : Number(r.expected_amount), expectedCurrency: r.expected_currency ?? undefined, reported: r.reported_amount === null ? undefined : Number(r.reported_amount),
  reportedFee: r.reported_fee === null ? undefined : Number(r.reported_fee), reportedNet: r.reported_net === null ? undefined : Number(r.reported_net),
  status: r.status === 'resolved' ? 'resolved' : 'open', note: r.note ?? undefined, createdAt: Number(r.created_at),
  resolvedAt: r.resolved_at === null ? undefined : Number(r.resolved_at),
});

/** One implementation over Kysely for both stores. */
export function createSettlementStore(uow: UnitOfWork): SettlementStore {
  const { db } = uow;
  return {
    writer(tx) {
      return {
        async lockAccount(pspAccountId) {
          if (uow.kind === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`settlement:${pspAccountId}`}))`.execute(tx);
        },
        async settledMovements(operationIds) {
          const out = new Set<string>();
          for (const part of chunks([...new Set(operationIds)])) {
            const rows = await tx.selectFrom('postings').select(['operation_id', 'leg']).where('operation_id', 'in', part).where('phase', '=', 'settled').execute();
            for (const r of rows) out.add(settledKeyOf({ operationId: r.operation_id, leg: r.leg }));
          }
          return out;
        },
        async insertReport(r) {
          const res = await tx.insertInto('settlement_reports').values({ id: r.id, psp_account_id: r.pspAccountId, day: r.day, summary: r.summary, imported_at: r.importedAt })
            .onConflict((oc) => oc.column('id').doNothing()).returning('id').execute();
          return res.length > 0;
        },
        async insertDiscrepancies(ds) {
          for (const part of chunks(ds)) {
            await tx.insertInto('settlement_discrepancies').values(part.map((d) => ({
              id: d.id, report_id: d.reportId, psp_account_id: d.pspAccountId, merchant_id: d.merchantId ?? null, kind: d.kind, reference: d.reference,
              payment_id: d.paymentId ?? null, operation_id: d.operationId ?? null, currency: d.currency,
              expected_amount: d.expected ?? null, expected_currency: d.expectedCurrency ?? null, reported_amount: d.reported ?? null,
              reported_fee: d.reportedFee ?? null, reported_net: d.reportedNet ?? null, status: d.status, note: d.note ?? null,
              created_at: d.createdAt, resolved_at: d.resolvedAt ?? null,
            }))).execute();
          }
        },
        async resolve(id, note, at) {
          const res = await tx.updateTable('settlement_discrepancies').set({ status: 'resolved', note, resolved_at: at })
            .where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
          if (Number(res.numUpdatedRows) === 0) return undefined;
          return toDiscrepancy(await tx.selectFrom('settlement_discrepancies').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
        },
      };
    },
    async reportSummary(id) {
      return (await db.selectFrom('settlement_reports').select('summary').where('id', '=', id).executeTakeFirst())?.summary;
    },
    async accountsNamed(name, merchantId) {
      if (name === defaultPspAccount) return [{ id: defaultPspAccount, name, merchantId: undefined, connector: 'simulator', settings: {} }];
      let q = db.selectFrom('psp_accounts').selectAll().where('name', '=', name);
      if (merchantId !== undefined) q = q.where('merchant_id', '=', merchantId);
      return (await q.orderBy('merchant_id').execute()).map((r) => ({ id: r.id, name: r.name, merchantId: r.merchant_id, connector: r.connector, settings: JSON.parse(r.settings) as unknown }));
    },
    async receivablePostings(pspAccountId, filter) {
      const base = () => db.selectFrom('postings').selectAll().where('psp_account_id', '=', pspAccountId).where('phase', '=', 'posted')
        .where((eb) => eb.or([eb('debit_account', '=', 'receivable'), eb('credit_account', '=', 'receivable')]));
      if ('from' in filter) {
        return (await base().where('created_at', '>=', filter.from).where('created_at', '<', filter.to).orderBy('created_at').orderBy('operation_id').execute()).map(toPosting);
      }
      const out: Posting[] = [];
      // Postings are found by their operation (the first column of their key), a payment's through
      // its operations: postings have no index by payment, and one would cost every payment's commit.
      for (const part of chunks([...new Set('paymentIds' in filter ? filter.paymentIds : filter.operationIds)])) {
        const rows = 'paymentIds' in filter
          ? await base().where('operation_id', 'in', (eb) => eb.selectFrom('transactions').select('id').where('payment_id', 'in', part)).execute()
          : await base().where('operation_id', 'in', part).execute();
        out.push(...rows.map(toPosting));
      }
      return out;
    },
    async operationsKnownAs(pspAccountId, references) {
      const out = new Map<string, string[]>();
      const add = (reference: string | null, operationId: string) => {
        if (reference === null) return;
        const list = out.get(reference) ?? [];
        if (!list.includes(operationId)) out.set(reference, [...list, operationId]);
      };
      for (const part of chunks([...new Set(references)])) {
        const attempts = await db.selectFrom('attempts').select(['id', 'transaction_id']).where('id', 'in', part).where('account_id', '=', pspAccountId).execute();
        for (const r of attempts) add(r.id, r.transaction_id);
        // The PSP's reference of an operation whose money moved at this account (the one its attempt there was given).
        const operations = await db.selectFrom('transactions').innerJoin('attempts', 'attempts.transaction_id', 'transactions.id')
          .select(['transactions.id', 'transactions.psp_reference']).distinct()
          .where('transactions.psp_reference', 'in', part).where('attempts.account_id', '=', pspAccountId).execute();
        for (const r of operations) add(r.psp_reference, r.id);
      }
      return out;
    },
    async lateApprovalReferences(pspAccountId, references) {
      const out = new Map<string, LateApprovalReference>();
      for (const part of chunks([...new Set(references)])) {
        // A charge is named by its operation, by the attempt id its connector sent as the merchant
        // reference, or by the PSP's own reference; its reversal by the reversal's key.
        const rows = await db.selectFrom('late_approvals').innerJoin('attempts', 'attempts.id', 'late_approvals.attempt_id')
          .select(['late_approvals.payment_id', 'late_approvals.merchant_id', 'late_approvals.reversal_id', 'late_approvals.attempt_id', 'late_approvals.psp_reference', 'attempts.transaction_id'])
          .where('late_approvals.account_id', '=', pspAccountId)
          .where((eb) => eb.or([eb('attempts.transaction_id', 'in', part), eb('late_approvals.attempt_id', 'in', part),
            eb('late_approvals.psp_reference', 'in', part), eb('late_approvals.reversal_id', 'in', part)]))
          .execute();
        for (const r of rows) {
          const found = { paymentId: r.payment_id, merchantId: r.merchant_id, operationId: r.transaction_id };
          for (const name of [r.transaction_id, r.attempt_id, r.psp_reference, r.reversal_id]) if (name !== null) out.set(name, found);
        }
      }
      return out;
    },
    async workspaces(merchantIds) {
      const out = new Map<string, string>();
      for (const part of chunks([...new Set(merchantIds)])) {
        for (const r of await db.selectFrom('merchants').select(['id', 'workspace_id']).where('id', 'in', part).execute()) out.set(r.id, r.workspace_id);
      }
      return out;
    },
    async discrepancies(filter) {
      let q = db.selectFrom('settlement_discrepancies').selectAll();
      if (filter.id) q = q.where('id', '=', filter.id);
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.merchantId) q = q.where('merchant_id', '=', filter.merchantId);
      if (filter.reportId) q = q.where('report_id', '=', filter.reportId);
      const after = filter.after;
      if (after) q = q.where((eb) => eb.or([eb('created_at', '>', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)])]));
      q = q.orderBy('created_at').orderBy('id');
      if (filter.limit !== undefined) q = q.limit(filter.limit);
      return (await q.execute()).map(toDiscrepancy);
    },
    async postingsPage(from, to, merchantId, after, limit) {
      let q = db.selectFrom('postings').selectAll().where('created_at', '>=', from).where('created_at', '<', to);
      if (merchantId !== undefined) q = q.where('merchant_id', '=', merchantId);
      if (after) {
        q = q.where(sql<boolean>`(created_at, operation_id, phase, leg) > (${after.createdAt}, ${after.operationId}, ${after.phase}, ${after.leg})`);
      }
      return (await q.orderBy('created_at').orderBy('operation_id').orderBy('phase').orderBy('leg').limit(limit).execute()).map(toPosting);
    },
  };
}
