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
