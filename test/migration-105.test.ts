/**
 * Migration 105 marks a bank transfer receipt-settled only for a receipt that succeeded, as the
 * sweep does: one still in flight at the upgrade may yet fail, and the sweep must then find the
 * transfer again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';
import { jobScanIndexes } from '../src/storage/migrations/105_job_scan_indexes.ts';

const clock = manualClock(Date.now());
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());

test('a bank transfer whose receipt was in flight at the upgrade, and then failed, is swept again', async () => {
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '120.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
    'bankAccount.bankName': 'Testbank', shopperResultUrl: 'https://shop.example/r',
  });
  const page = await openRedirect(r.body.redirect);
  assert.equal((await answer(page, 'completed')).status, 303);
  const paymentId = r.body.id as string;
  clock.advance(gw.app.config.bankReceiptDelayMs + 1);
  assert.equal(await gw.app.payments.confirmBankTransfers(), 1);
  const db = gw.app.storage.db;
  // As the store stood before 105, with that receipt still at the bank.
  await db.updateTable('transactions').set({ status: 'pending' }).where('payment_id', '=', paymentId).where('type', '=', 'receipt').execute();
  await sql`drop index payments_open_authorizations`.execute(db);
  await sql`drop index payments_awaiting_receipt`.execute(db);
  await sql`alter table payments drop column receipt_settled_at`.execute(db);
  await sql`create index payments_open_holds on payments (hold_released_at, created_at)`.execute(db);
  await jobScanIndexes.up(db as never);
  // The bank then says the receipt failed.
  await db.updateTable('transactions').set({ status: 'failed' }).where('payment_id', '=', paymentId).where('type', '=', 'receipt').execute();
  clock.advance(gw.app.config.bankReceiptDelayMs + 1);
  const due = await gw.app.storage.db.selectFrom('payments').select('receipt_settled_at').where('id', '=', paymentId).executeTakeFirstOrThrow();
  assert.equal(due.receipt_settled_at, null, 'marked settled by a receipt that never succeeded: the sweep never reads this transfer again');
});
