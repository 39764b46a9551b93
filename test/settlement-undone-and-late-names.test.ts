/**
 * Settlement lines naming an operation undone before any report settled it (a clawback line for
 * money never paid out is not settled against it, the books verify), and a late approval found by
 * its PSP reference whose line's own reference is a card number (kept only masked).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SettlementReport } from '../src/processors/settlement-report.ts';
import { opp } from './support/harness.ts';
import { D, cardOf, gateway, drain, ok, bo, importReport, lateApprovedSale, capturedReportedThenFailed } from './support/settlement-day.ts';

test('the PSP\'s report of the undo\'s day (its clawback line) imported before the report of the capture\'s day: the clawback is not settled against a movement never settled, the books verify', async () => {
  const { gw, clock } = await gateway(D + 60_000);
  try {
    // The PSP's report of the 10th (the capture, paid out) is made at midnight; on the 11th the PSP
    // reports the capture failed, and its report of the 11th claws it back.
    const { capture: x, d10 } = await capturedReportedThenFailed(gw, clock);
    const vd = '2026-03-12';
    const d11: SettlementReport = {
      pspAccount: 'default', merchantId: undefined, day: '2026-03-11',
      lines: [{ reference: x, pspReference: undefined, type: 'capture', gross: -6000, fee: 0, net: -6000, currency: 'EUR' as any, valueDate: vd }],
      payouts: [{ currency: 'EUR' as any, amount: -6000, valueDate: vd }],
    };
    // The operator imports the 11th first (the 10th's import is retried later).
    const i11 = await importReport(gw, d11);
    const verified = await gw.app.ledger.verify();
    assert.equal(verified, undefined, `after importing the 11th's report alone the books do not verify: ${verified}; discrepancies ${JSON.stringify(i11.discrepancies)}; matched ${i11.summary.matched}`);
    const i10 = await importReport(gw, d10);
    assert.equal(await gw.app.ledger.verify(), undefined, JSON.stringify(i10.discrepancies));
  } finally { await gw.close(); }
});

test('a capture reported failed before any report (no money moved) and a PSP line clawing it back: not settled as a clawback, the books verify', async () => {
  const { gw, clock } = await gateway(D + 60_000);
  try {
    const pa = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'PA', amount: '40.00', currency: 'EUR' }));
    const y = ok(await bo(gw, pa, 'CP', '40.00'));
    const attempt = (await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', y).executeTakeFirstOrThrow()).id;
    assert.equal(await gw.app.payments.settleFromPsp('default', attempt, { kind: 'declined', reason: 'provider_error', acquirerCode: 'CAPTURE_FAILED', message: undefined, pspReference: undefined, details: {} }, { reverses: true }), true);
    await drain(gw, clock);
    const vd = '2026-03-11';
    const report: SettlementReport = {
      pspAccount: 'default', merchantId: undefined, day: '2026-03-10',
      lines: [{ reference: y, pspReference: undefined, type: 'capture', gross: -4000, fee: 0, net: -4000, currency: 'EUR' as any, valueDate: vd }],
      payouts: [{ currency: 'EUR' as any, amount: -4000, valueDate: vd }],
    };
    const out = await importReport(gw, report);
    const verified = await gw.app.ledger.verify();
    assert.equal(verified, undefined, `a clawback of a capture never paid out was settled: ${verified}; matched ${out.summary.matched}, discrepancies ${JSON.stringify(out.discrepancies)}`);
  } finally { await gw.close(); }
});

test('a late approval\'s line found by the PSP reference, its reference the card number (a report keyed by the card): the discrepancy keeps the card number only masked', async () => {
  const { gw, clock } = await gateway(D + 60_000);
  try {
    const { paymentId: lateId, attemptId: lateAttemptId } = await lateApprovedSale(gw, clock, 'LATE-P');
    await drain(gw, clock);
    const vd = '2026-03-11';
    const pan = '4200000000000000';
    const report: SettlementReport = {
      pspAccount: 'default', merchantId: undefined, day: '2026-03-10',
      lines: [{ reference: pan, pspReference: 'LATE-P', type: 'capture', gross: 2500, fee: 58, net: 2442, currency: 'EUR' as any, valueDate: vd }],
      payouts: [{ currency: 'EUR' as any, amount: 2442, valueDate: vd }],
    };
    const out = await importReport(gw, report);
    assert.deepEqual(out.discrepancies.map((d: any) => d.kind), ['late_approval'], JSON.stringify(out.discrepancies));
    const stored = await gw.app.storage.db.selectFrom('settlement_discrepancies').select('reference').execute();
    const events = await gw.app.storage.db.selectFrom('outbox').selectAll().execute();
    assert.ok(!JSON.stringify(stored).includes(pan) && !JSON.stringify(out.discrepancies).includes(pan) && !JSON.stringify(events).includes(pan),
      `the card number is kept, answered and sent whole: ${JSON.stringify(stored)}`);
  } finally { await gw.close(); }
});
