import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStorage } from './database.ts';
import type { UnitOfWork } from './unit-of-work.ts';
import { createWebhookStore } from '../webhooks/kysely-store.ts';
import { createPaymentStore } from '../payments/kysely-store.ts';
import { createExecutionStore } from '../executions/kysely-store.ts';
import { createDashboardStore } from '../dashboard/kysely-store.ts';
import { createSettlementStore } from '../ledger/settlement-store.ts';
import { createVaultStore } from '../vault/kysely-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-plans-'));
const storage = await openStorage({ kind: 'sqlite', dataDir: dir });
after(async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); });

/** SQLite's plan for a statement; its placeholders stay unbound (NULL), which the plan does not depend on. */
async function planOf(text: string): Promise<string[]> {
  const rows = await sql.raw<{ detail: string }>(`explain query plan ${text}`).execute(storage.db);
  return rows.rows.map((r) => r.detail);
}

/** The SQL of every statement `fn` runs through a store built over `storage`, as the store really builds it. */
async function statementsOf(fn: (uow: UnitOfWork) => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const executor = storage.db.getExecutor();
  const watched = storage.db.withPlugin({
    transformQuery: ({ node, queryId }) => { seen.push(executor.compileQuery(node, queryId).sql); return node; },
    transformResult: async ({ result }) => result,
  });
  await fn({ ...storage.uow, db: watched });
  return seen;
}

test('the relay reads undispatched outbox events in written order from a partial index, with no sort; so does the outbox-lag gauge', async () => {
  const [poll] = await statementsOf((uow) => createWebhookStore(uow).undispatched(100));
  const [gauge] = await statementsOf((uow) => createWebhookStore(uow).oldestUndispatchedAt());
  for (const text of [poll!, gauge!]) {
    const plan = await planOf(text);
    assert.ok(plan.some((d) => d.includes('outbox_undispatched')), `${text}: ${plan.join('; ')}`);
    assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `no sort of the backlog: ${text}: ${plan.join('; ')}`);
  }
});

test('the outbox-lag gauge reads the oldest undispatched event in written order, and nothing once all are dispatched', async () => {
  const store = createWebhookStore(storage.uow);
  assert.equal(await store.oldestUndispatchedAt(), undefined);
  const event = (id: string, createdAt: number) => ({ id, merchant_id: 'm', type: 'operation.succeeded', subject_id: id, payload: '{}', created_at: createdAt });
  await storage.db.insertInto('outbox').values([event('e1', 2_000), event('e2', 1_000)]).execute();
  assert.equal(await store.oldestUndispatchedAt(), 2_000, 'the first written, as the relay will send it');
  await storage.db.updateTable('outbox').set({ delivered_at: 3_000 }).execute();
  assert.equal(await store.oldestUndispatchedAt(), undefined);
});

test('an opened store keeps its sub-journals in memory (set after the migrations, which ran with the default)', async () => {
  const r = await sql<{ temp_store: number }>`pragma temp_store`.execute(storage.db);
  assert.equal(r.rows[0]!.temp_store, 2, 'MEMORY');
});

test('attempts are found by their id, and operations at a PSP account by the PSP\'s reference, through indexes: never a scan of every attempt', async () => {
  const byReference = 'select distinct t.id, t.psp_reference from transactions t inner join attempts a on a.transaction_id = t.id where t.psp_reference in (?, ?) and a.account_id = ?';
  for (const text of ['select * from attempts where id = ?', 'select id, transaction_id from attempts where id in (?, ?) and account_id = ?', byReference]) {
    const plan = await planOf(text);
    assert.ok(plan.some((d) => /USING (COVERING )?INDEX (attempts_id|transactions_psp_reference)/.test(d)), `${text}: ${plan.join('; ')}`);
    assert.ok(!plan.some((d) => /^SCAN (attempts|transactions|t|a)$/.test(d)), `${text}: ${plan.join('; ')}`);
  }
});

test('the expiry and receipt sweeps read partial indexes of what may still wait, with no sort: never every payment ever taken', async () => {
  const [holds] = await statementsOf((uow) => createPaymentStore(uow).openHoldsBefore(1, { createdAt: 0, id: '0' }, 100));
  const [receipts] = await statementsOf((uow) => createPaymentStore(uow).bankTransfersAwaitingReceipt(1, 100));
  for (const [text, index] of [[holds!, 'payments_open_authorizations'], [receipts!, 'payments_awaiting_receipt']] as const) {
    const plan = await planOf(text);
    assert.ok(plan.some((d) => d.includes(index)), `${text}: ${plan.join('; ')}`);
    assert.ok(!plan.some((d) => d.includes('TEMP B-TREE')), `no sort: ${text}: ${plan.join('; ')}`);
  }
});

test('the capture-rest sweep reads the captures that ended in its window through the status index, in its order', async () => {
  const [text] = await statementsOf((uow) => createPaymentStore(uow).capturesEndedBetween('succeeded', 1, 2, { updatedAt: 1, id: '0' }, 100));
  const plan = await planOf(text!);
  assert.ok(plan.some((d) => d.includes('transactions_status')), `${text}: ${plan.join('; ')}`);
  // Only operations that ended in the same millisecond are put in id order (the last term).
  assert.ok(!plan.includes('USE TEMP B-TREE FOR ORDER BY'), `no sort of the window: ${text}: ${plan.join('; ')}`);
});

/** Whether a plan reads every row of `table`, or sorts what it read (a whole table, or one merchant's whole history). */
const scans = (plan: readonly string[], table: string) => plan.some((d) => d === `SCAN ${table}`);
const sorts = (plan: readonly string[]) => plan.includes('USE TEMP B-TREE FOR ORDER BY');

for (const [name, filter] of [['all of it', {}], ['one merchant\'s', { merchantId: 'm1' }], ['since a time', { since: 1 }]] as const) {
  test(`the webhook delivery log (${name}) reads one page, newest first, through an index: not every delivery sorted`, async () => {
    for (const before of [undefined, { createdAt: 2, id: 'd1' }]) {
      const [text] = await statementsOf((uow) => createWebhookStore(uow).deliveries({ ...filter, ...(before ? { before } : {}), limit: 101 }));
      const plan = await planOf(text!);
      assert.ok(!scans(plan, 'webhook_deliveries') && !sorts(plan), `${text}: ${plan.join('; ')}`);
    }
  });
}

test('executions looked up by the merchant\'s order or holder reference are found through an index on it, not by walking every execution of the workflow', async () => {
  for (const [filter, column] of [[{ merchantReference: 'order-1' }, 'merchant_reference'], [{ holderReference: 'holder-1' }, 'holder_reference']] as const) {
    const [text] = await statementsOf((uow) => createExecutionStore(uow).list({ merchantId: 'm1', workflowCode: 'wf', limit: 21, ...filter }));
    const plan = await planOf(text!);
    assert.ok(plan.some((d) => d.includes(`${column}=?`)), `${text}: ${plan.join('; ')}`);
  }
  // A later page starts where the index range does: not after a walk past every newer execution.
  const [next] = await statementsOf((uow) => createExecutionStore(uow).list({ merchantId: 'm1', workflowCode: 'wf', limit: 21, before: { createdAt: 2, id: 'e1' } }));
  const plan = await planOf(next!);
  assert.ok(plan.some((d) => d.includes('(created_at,id)<(?,?)')), `${next}: ${plan.join('; ')}`);
});

test('a merchant-scoped audit page reads that merchant\'s entries, newest first, through an index: not the whole audit log', async () => {
  for (const before of [undefined, { at: 2, id: 'a1' }]) {
    const [text] = await statementsOf((uow) => createDashboardStore(uow).audit({ merchantId: 'm1', limit: 100, ...(before ? { before } : {}) }));
    const plan = await planOf(text!);
    assert.ok(plan.some((d) => d.includes('merchant_id=?')) && !sorts(plan), `${text}: ${plan.join('; ')}`);
  }
});

test('a settlement import finds the receivable postings of charged payments through their operations: not a scan of every posting per chunk', async () => {
  for (const filter of [{ paymentIds: ['p1', 'p2'] }, { operationIds: ['o1', 'o2'] }]) {
    const [text] = await statementsOf((uow) => createSettlementStore(uow).receivablePostings('acc1', filter));
    const plan = await planOf(text!);
    assert.ok(!scans(plan, 'postings') && !scans(plan, 'transactions'), `${text}: ${plan.join('; ')}`);
  }
});

test('a merchant\'s ledger export reads each page from its window through an index: not the merchant\'s whole history sorted', async () => {
  const [text] = await statementsOf((uow) => createSettlementStore(uow).postingsPage(1, 2, 'm1', undefined, 1000));
  const plan = await planOf(text!);
  assert.ok(plan.some((d) => d.includes('postings_merchant_time')) && !sorts(plan), `${text}: ${plan.join('; ')}`);
});

test('a key rotation\'s batches read the cards under an older key through an index: not every card sorted for each batch', async () => {
  const [text] = await statementsOf((uow) => createVaultStore(uow).cardsBelowVersion(2, 100));
  const plan = await planOf(text!);
  assert.ok(!scans(plan, 'cards') && !sorts(plan), `${text}: ${plan.join('; ')}`);
});
