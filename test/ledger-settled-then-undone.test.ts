/**
 * A capture or refund a settlement report settled (paid out) and its PSP reported failed afterwards
 * (Adyen CAPTURE_FAILED, REFUND_FAILED: `settleFromPsp(..., {reverses: true})`). The settlement
 * stands; the undo is what the PSP owes back, a clawback a report of the undo's day is expected to
 * carry. `ledger verify` accepts the books before and after that clawback is settled, and a report
 * without it reports it missing.
 */
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { Cvv, Pan } from '../src/vault/card.ts';
import type { Currency } from '../src/money/money.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { postgresAvailable, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const pgUp = await postgresAvailable();
const dayStart = Date.UTC(2026, 2, 10);
const EUR = 'EUR' as Currency;
const card = () => ({ pan: new Pan('4200000000000000'), cvv: new Cvv('123'), holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034', brand: 'VISA' as const });
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

for (const store of ['sqlite', 'postgres'] as const) describe(`ledger: settled, then undone by its PSP (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
  let clock = manualClock(dayStart + 60_000);
  let gw: Gateway | undefined;
  let account: SettlementAccount;
  // Each test its own gateway: a broken invariant of one must not show in the next.
  beforeEach(async () => {
    await gw?.close();
    clock = manualClock(dayStart + 60_000);
    ({ gw, account } = await gatewayWithSettlementAccount(clock, store));
  });
  after(async () => { await gw?.close(); });

  const merchant = async () => (await gw!.app.merchants.byId(gw!.merchant.merchantId))!;
  const scope = () => ({ channel: 'opp' as const, entityId: gw!.merchant.entityId });
  const report = (lines: { reference: string; type: string; gross: string; fee: string; net: string }[], payout: string) => {
    const vd = iso(clock.now() + 86_400_000);
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw!.merchant.merchantId, day: iso(clock.now()),
      lines: lines.map((l) => ({ ...l, currency: 'EUR', valueDate: vd })), payouts: [{ currency: 'EUR', amount: payout, valueDate: vd }],
    });
    assert.ok(parsed.ok);
    return parsed.value;
  };
  const failAtPsp = async (operationId: string, acquirerCode: string) => {
    const attempt = await gw!.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', operationId).executeTakeFirstOrThrow();
    const failed = { kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode, message: 'rejected', pspReference: undefined, details: {} };
    assert.equal(await gw!.app.payments.settleFromPsp(account.id, attempt.id, failed, { reverses: true }), true);
  };
  /** An authorization of 50.00 captured in full, settled by the day's report (fee 0.95). */
  const settledCapture = async () => {
    const m = await merchant();
    const r = await gw!.app.payments.pay({
      merchant: m, scope: scope(), returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
      workflowCode: 'payment-acceptance', kind: 'authorize', amount: { amount: 5000, currency: EUR }, card: card(),
    });
    assert.ok(r.ok && r.value.operation.status === 'succeeded');
    const cp = await gw!.app.payments.followUp({ merchant: m, scope: scope(), kind: 'capture', referencedId: r.value.payment.id, amount: { amount: 5000, currency: EUR }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    assert.ok(cp.ok && cp.value.operation.status === 'succeeded');
    assert.equal(await gw!.app.ledger.verify(), undefined, 'sound before');
    const out = await gw!.app.settlement.reconcile(account, report([{ reference: cp.value.operation.id, type: 'capture', gross: '50.00', fee: '0.95', net: '49.05' }], '49.05'));
    assert.ok(out.ok);
    assert.equal(out.value.summary.matched, 1);
    assert.equal(await gw!.app.ledger.verify(), undefined, 'sound after settlement');
    return { paymentId: r.value.payment.id, captureId: cp.value.operation.id };
  };
  const receivable = async () => (await gw!.app.ledger.balances(gw!.merchant.merchantId)).find((b) => b.kind === 'receivable' && b.pspAccountId === account.id)?.balance;

  test('a capture settled and then reported failed by its PSP leaves books that `ledger verify` accepts; the PSP owes the capture back', async () => {
    const { captureId } = await settledCapture();
    clock.advance(2 * 86_400_000);
    await failAtPsp(captureId, 'CAPTURE_FAILED');
    assert.equal(await gw!.app.ledger.verify(), undefined);
    assert.equal(await receivable(), -5000, 'the 50.00 paid out is owed back to the PSP');
  });

  test('a refund settled and then reported failed by its PSP leaves books that `ledger verify` accepts', async () => {
    const m = await merchant();
    clock.advance(86_400_000);
    const r = await gw!.app.payments.pay({
      merchant: m, scope: scope(), returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
      workflowCode: 'payment-acceptance', kind: 'sale', amount: { amount: 3000, currency: EUR }, card: card(),
    });
    assert.ok(r.ok && r.value.operation.status === 'succeeded');
    const rf = await gw!.app.payments.followUp({ merchant: m, scope: scope(), kind: 'refund', referencedId: r.value.payment.id, amount: { amount: 3000, currency: EUR }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    assert.ok(rf.ok && rf.value.operation.status === 'succeeded', JSON.stringify(rf));
    const out = await gw!.app.settlement.reconcile(account, report([
      { reference: r.value.operation.id, type: 'capture', gross: '30.00', fee: '0.65', net: '29.35' },
      { reference: rf.value.operation.id, type: 'refund', gross: '-30.00', fee: '0.00', net: '-30.00' },
    ], '-0.65'));
    assert.ok(out.ok);
    assert.equal(out.value.summary.matched, 2, JSON.stringify(out.value.discrepancies));
    assert.equal(await gw!.app.ledger.verify(), undefined, 'sound after settlement');
    clock.advance(86_400_000);
    await failAtPsp(rf.value.operation.id, 'REFUND_FAILED');
    assert.equal(await gw!.app.ledger.verify(), undefined);
    // The refund's money comes back to the merchant: a positive refund line settles it.
    const back = await gw!.app.settlement.reconcile(account, report([{ reference: rf.value.operation.id, type: 'refund', gross: '30.00', fee: '0.00', net: '30.00' }], '30.00'));
    assert.ok(back.ok);
    assert.deepEqual(back.value.discrepancies, []);
    assert.equal(back.value.summary.matched, 1);
    assert.equal(await gw!.app.ledger.verify(), undefined, 'sound after the refund came back');
  });

  test("the undo's day report settles the PSP's clawback (a negative line of the capture); the books verify and nothing stays receivable", async () => {
    const { captureId } = await settledCapture();
    clock.advance(2 * 86_400_000);
    await failAtPsp(captureId, 'CAPTURE_FAILED');
    const out = await gw!.app.settlement.reconcile(account, report([{ reference: captureId, type: 'capture', gross: '-50.00', fee: '0.00', net: '-50.00' }], '-50.00'));
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies, []);
    assert.equal(out.value.summary.matched, 1);
    assert.equal(await gw!.app.ledger.verify(), undefined);
    assert.equal(await receivable(), 0);
    // The clawback reported again is a duplicate, as is the capture itself.
    clock.advance(86_400_000);
    const again = await gw!.app.settlement.reconcile(account, report([
      { reference: captureId, type: 'capture', gross: '-50.00', fee: '0.00', net: '-50.00' },
      { reference: captureId, type: 'capture', gross: '50.00', fee: '0.95', net: '49.05' },
    ], '-0.95'));
    assert.ok(again.ok);
    assert.deepEqual(again.value.discrepancies.map((d) => [d.kind, d.reference, d.expected]), [['duplicate_line', captureId, 5000], ['duplicate_line', captureId, -5000]]);
    assert.equal(await gw!.app.ledger.verify(), undefined);
  });

  test("a report of the undo's day without the clawback reports it missing; the books still verify", async () => {
    const { captureId, paymentId } = await settledCapture();
    clock.advance(2 * 86_400_000);
    await failAtPsp(captureId, 'CAPTURE_FAILED');
    const out = await gw!.app.settlement.reconcile(account, report([], '0.00'));
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies.map((d) => [d.kind, d.reference, d.paymentId, d.expected]), [['missing_line', captureId, paymentId, -5000]]);
    assert.equal(await gw!.app.ledger.verify(), undefined);
  });

  test('the simulated acquirer claws back a capture it had paid out: its report of the undo day carries the negative line and matches', async () => {
    const { captureId } = await settledCapture();
    clock.advance(2 * 86_400_000);
    await failAtPsp(captureId, 'CAPTURE_FAILED');
    const sim = await gw!.app.settlement.simulatedReport(account, iso(clock.now()));
    assert.ok(sim.ok);
    assert.deepEqual(sim.value.report.lines.map((l) => [l.reference, l.type, l.gross, l.net]), [[captureId, 'capture', -5000, -5000]]);
    assert.deepEqual(sim.value.report.payouts.map((p) => [p.currency, p.amount]), [['EUR', -5000]]);
    const out = await gw!.app.settlement.reconcile(account, sim.value.report);
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies, []);
    assert.equal(await gw!.app.ledger.verify(), undefined);
  });

  test('a capture reported failed before any report settled it is still expected in none', async () => {
    const m = await merchant();
    const r = await gw!.app.payments.pay({
      merchant: m, scope: scope(), returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
      workflowCode: 'payment-acceptance', kind: 'authorize', amount: { amount: 5000, currency: EUR }, card: card(),
    });
    assert.ok(r.ok);
    const cp = await gw!.app.payments.followUp({ merchant: m, scope: scope(), kind: 'capture', referencedId: r.value.payment.id, amount: { amount: 5000, currency: EUR }, merchantTransactionId: undefined, context: {}, testParameters: {} });
    assert.ok(cp.ok && cp.value.operation.status === 'succeeded');
    const day = iso(clock.now());
    clock.advance(86_400_000);
    await failAtPsp(cp.value.operation.id, 'CAPTURE_FAILED');
    for (const d of [day, iso(clock.now())]) {
      const sim = await gw!.app.settlement.simulatedReport(account, d);
      assert.ok(sim.ok);
      assert.deepEqual(sim.value.report.lines, [], d);
    }
    const out = await gw!.app.settlement.reconcile(account, report([], '0.00'));
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies, []);
    assert.equal(await gw!.app.ledger.verify(), undefined);
  });
});
