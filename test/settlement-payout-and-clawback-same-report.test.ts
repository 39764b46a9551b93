/**
 * A capture paid out and clawed back within one report (the PSP's batch lists the capture and,
 * later that day, its failure), imported after the gateway posted both the capture and its undo:
 * both lines match, whichever comes first in the report, and nothing stays receivable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SettlementReport } from '../src/processors/settlement-report.ts';
import { D, gateway, importReport, capturedSixty, captureReportedFailed } from './support/settlement-day.ts';

test('one report carrying a capture\'s payout and its clawback (undone the same day, before any import): both lines match, nothing left receivable', async () => {
  const { gw, clock } = await gateway(D + 60_000);
  try {
    const { pa, capture: x } = await capturedSixty(gw, clock);
    clock.set(D + 3_600_000);
    await captureReportedFailed(gw, clock, x);
    const vd = '2026-03-11';
    const report: SettlementReport = {
      pspAccount: 'default', merchantId: undefined, day: '2026-03-10',
      lines: [
        { reference: x, pspReference: undefined, type: 'capture', gross: 6000, fee: 0, net: 6000, currency: 'EUR' as any, valueDate: vd },
        { reference: x, pspReference: undefined, type: 'capture', gross: -6000, fee: 0, net: -6000, currency: 'EUR' as any, valueDate: vd },
      ],
      payouts: [],
    };
    const out = await importReport(gw, report);
    assert.equal(await gw.app.ledger.verify(), undefined);
    const legs = (await gw.app.ledger.paymentPostings(pa)).filter((p) => p.operationId === x).map((p) => ({ debit: p.debit, credit: p.credit, amount: p.amount, phase: p.phase, leg: p.leg }));
    const receivable = legs.reduce((s, p) => s + (p.debit === 'receivable' ? Number(p.amount) : 0) - (p.credit === 'receivable' ? Number(p.amount) : 0), 0);
    assert.deepEqual({ matched: out.summary.matched, discrepancies: out.discrepancies.map((d: any) => d.kind), receivable },
      { matched: 2, discrepancies: [], receivable: 0 },
      `the clawback the PSP took is not settled against the undo: ${JSON.stringify(legs)}`);
  } finally { await gw.close(); }
});
