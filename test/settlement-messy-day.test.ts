/**
 * A messy day at the default (simulated) acquirer, then its settlement report: lost answers the
 * reconciler settles, partial captures and refunds, a void of the rest, a chargeback and its
 * reversal, a late approval the gateway reverses. After the periodic jobs drained, the simulator's
 * report of the day (plus the lines a real PSP adds for the late approval) is imported: every line
 * matched but the late approval's two (documented), the books verify, a second import changes
 * nothing, the fees and the settled money posted are the report's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import type { ConnectorRequest } from '../src/processors/connector.ts';
import { parseSettlementReport, serializeSettlementReport, type SettlementReport } from '../src/processors/settlement-report.ts';
import { opp, startGateway } from './support/harness.ts';
import { success, unknownCode, D, iso, cardOf, acquirer, gateway, drain, ok, bo, importReport, count, simulated, lateApprovedSale, capturedReportedThenFailed } from './support/settlement-day.ts';

test('a messy day, drained and then settled: every line matched but the late approval\'s, the books verify, a second import is a no-op', async () => {
  const { gw, clock } = await gateway(D + 60_000);
  try {
    // A plain sale.
    const sale = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '50.00', currency: 'EUR' }));
    // An authorization captured in parts, one part refunded, the rest voided.
    const pa = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'PA', amount: '100.00', currency: 'EUR' }));
    const cp1 = ok(await bo(gw, pa, 'CP', '30.00'));
    ok(await bo(gw, pa, 'CP', '20.00'));
    ok(await bo(gw, cp1, 'RF', '10.00'));
    ok(await bo(gw, pa, 'RV'));
    // A sale refunded in parts.
    const s2 = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '80.00', currency: 'EUR' }));
    ok(await bo(gw, s2, 'RF', '30.00'));
    ok(await bo(gw, s2, 'RF', '20.00'));
    // A chargeback and its reversal, reported by the PSP.
    const s3 = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '60.00', currency: 'EUR' }));
    const cb = ok(await bo(gw, s3, 'CB', '60.00'));
    ok(await bo(gw, cb, 'CR', '60.00'));
    // A sale whose answer is lost: the PSP made it; the reconciler finds it approved.
    const lostSale = await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '41.00', currency: 'EUR', 'customParameters[SHOPPER_silent]': '1' });
    assert.equal(lostSale.body.result.code, unknownCode, JSON.stringify(lostSale.body));
    // A capture whose answer is lost, and a refund whose answer is lost.
    const pa2 = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'PA', amount: '70.00', currency: 'EUR' }));
    const lostCp = await bo(gw, pa2, 'CP', '45.00', { 'customParameters[SHOPPER_silent]': '1' });
    assert.equal(lostCp.body.result.code, unknownCode, JSON.stringify(lostCp.body));
    const s4 = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '33.00', currency: 'EUR' }));
    const lostRf = await bo(gw, s4, 'RF', '13.00', { 'customParameters[SHOPPER_silent]': '1' });
    assert.equal(lostRf.body.result.code, unknownCode, JSON.stringify(lostRf.body));
    // A sale the gateway ends as never received, which the PSP then approves: reversed by the gateway.
    const { paymentId: lateId, attemptId: lateAttemptId } = await lateApprovedSale(gw, clock, 'LATE-1');

    await drain(gw, clock);
    assert.equal(iso(clock.now()), '2026-03-10', 'still the same day');
    const lateRow = await gw.app.storage.db.selectFrom('late_approvals').selectAll().where('attempt_id', '=', lateAttemptId).executeTakeFirstOrThrow();
    assert.equal(lateRow.status, 'reversed');
    const statuses = await gw.app.storage.db.selectFrom('transactions').select(['id', 'type', 'status']).where('id', 'in', [lostSale.body.id, lostCp.body.id, lostRf.body.id]).execute();
    assert.deepEqual(statuses.map((t) => t.status), ['succeeded', 'succeeded', 'succeeded'], JSON.stringify(statuses));
    assert.equal(await gw.app.ledger.verify(), undefined);

    // The simulator's report of the day, with the two lines a PSP adds for the late approval (the
    // charge it made, with its fee, and the gateway's refund of it): both are documented late_approvals.
    const sim = await simulated(gw, '2026-03-10');
    const vd = '2026-03-11';
    const extra = [
      { reference: lateId, pspReference: undefined, type: 'capture' as const, gross: 2500, fee: 58, net: 2442, currency: 'EUR' as any, valueDate: vd },
      { reference: lateRow.reversal_id, pspReference: undefined, type: 'refund' as const, gross: -2500, fee: 0, net: -2500, currency: 'EUR' as any, valueDate: vd },
    ];
    const lines = [...sim.lines, ...extra];
    const report: SettlementReport = { ...sim, lines, payouts: [{ currency: 'EUR' as any, amount: lines.reduce((s, l) => s + l.net, 0), valueDate: vd }] };
    const reparsed = parseSettlementReport(JSON.parse(serializeSettlementReport(report)));
    assert.ok(reparsed.ok, reparsed.ok ? '' : reparsed.error);
    // Every movement of the day is in it: sale, 2+1 captures, 1+2+1 refunds, chargeback and reversal, lost sale, 1 more sale.
    const types = sim.lines.map((l) => l.type).sort();
    assert.deepEqual(types, ['capture', 'capture', 'capture', 'capture', 'capture', 'capture', 'capture', 'capture', 'chargeback', 'chargeback_reversal', 'refund', 'refund', 'refund', 'refund'].sort(), JSON.stringify(sim.lines));

    const first = await importReport(gw, reparsed.value);
    assert.equal(first.imported, true);
    assert.deepEqual(first.discrepancies.map((d: any) => `${d.kind}@${d.reference}`).sort(),
      [`late_approval@${lateId}`, `late_approval@${lateRow.reversal_id}`].sort(), 'only the late approval\'s lines are discrepancies');
    assert.equal(first.summary.matched, sim.lines.length);
    assert.equal(await gw.app.ledger.verify(), undefined, 'the books verify after the import');
    const balances = await gw.app.ledger.balances(gw.merchant.merchantId);
    const bal = (kind: string) => balances.filter((b: any) => b.kind === kind && b.currency === 'EUR').reduce((s: number, b: any) => s + b.balance, 0);
    assert.equal(bal('fees'), sim.lines.reduce((s, l) => s + l.fee, 0), 'fees posted are the report\'s (of its matched lines)');
    assert.equal(bal('settled'), report.payouts[0]!.amount - extra.reduce((s, l) => s + l.net, 0), 'settled is the payout less the late approval\'s lines');
    assert.equal(bal('receivable'), 0, 'nothing stays receivable');

    const before = [await count(gw, 'postings'), await count(gw, 'outbox'), await count(gw, 'settlement_discrepancies')];
    const again = await importReport(gw, reparsed.value);
    assert.equal(again.imported, false);
    assert.deepEqual(again.summary, first.summary);
    assert.deepEqual([await count(gw, 'postings'), await count(gw, 'outbox'), await count(gw, 'settlement_discrepancies')], before);
  } finally { await gw.close(); }
});

test('a day that spans midnight: a capture at 23:59 whose answer comes after midnight, a sale the PSP settles the next day, a late approval reversed after midnight', async () => {
  const { gw, clock } = await gateway(D + 86_400_000 - 120_000); // 23:58
  try {
    const { paymentId: lateId, attemptId: lateAttemptId } = await lateApprovedSale(gw, clock, 'LATE-2', 50_000);
    clock.set(D + 86_400_000 - 60_000);
    // 23:59: an authorization, its capture's answer lost; a sale.
    const pa = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'PA', amount: '100.00', currency: 'EUR' }));
    const cp = await bo(gw, pa, 'CP', '40.00', { 'customParameters[SHOPPER_silent]': '1' });
    assert.equal(cp.body.result.code, unknownCode);
    const sale = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '50.00', currency: 'EUR' }));
    assert.equal(iso(clock.now()), '2026-03-10');
    await drain(gw, clock);
    assert.equal(iso(clock.now()), '2026-03-11', 'the jobs ran after midnight');
    const lateRow = await gw.app.storage.db.selectFrom('late_approvals').selectAll().where('attempt_id', '=', lateAttemptId).executeTakeFirstOrThrow();
    assert.equal(lateRow.status, 'reversed');
    assert.equal(await gw.app.ledger.verify(), undefined);

    // The PSP processed the capture at 23:59 (it answered then; the answer was lost). Its report of
    // the 10th carries the capture and the late charge; the 11th the sale (after its cut-off) and the reversal.
    const d10 = await simulated(gw, '2026-03-10');
    const d11 = await simulated(gw, '2026-03-11');
    const where = (r: SettlementReport) => r.lines.map((l) => l.reference);
    // What the simulator itself says about where each movement belongs.
    const simWhere = { d10: where(d10), d11: where(d11) };
    const capLine = [...d10.lines, ...d11.lines].find((l) => l.reference === cp.body.id);
    const saleLine = [...d10.lines, ...d11.lines].find((l) => l.reference === sale);
    assert.ok(capLine && saleLine, JSON.stringify(simWhere));
    const vd = (d: string) => iso(Date.parse(d) + 86_400_000);
    const mk = (day: string, lines: any[]) => {
      const r: SettlementReport = { pspAccount: 'default', merchantId: undefined, day, lines: lines.map((l) => ({ ...l, valueDate: vd(day) })), payouts: [] };
      const payout = r.lines.reduce((s, l) => s + l.net, 0);
      return { ...r, payouts: payout === 0 ? [] : [{ currency: 'EUR' as any, amount: payout, valueDate: vd(day) }] };
    };
    const r10 = mk('2026-03-10', [capLine, { reference: lateId, pspReference: undefined, type: 'capture', gross: 2500, fee: 58, net: 2442, currency: 'EUR' }]);
    const r11 = mk('2026-03-11', [saleLine, { reference: lateRow.reversal_id, pspReference: undefined, type: 'refund', gross: -2500, fee: 0, net: -2500, currency: 'EUR' }]);
    const i10 = await importReport(gw, r10);
    const i11 = await importReport(gw, r11);
    const kinds = (x: any) => x.discrepancies.map((d: any) => `${d.kind}@${d.reference}`).sort();
    // The sale booked on the 10th and settled on the 11th is a documented missing_line of the 10th;
    // the late charge and its reversal are documented late_approvals; nothing else.
    const saleBookedOn10 = simWhere.d10.includes(sale);
    const capBookedOn10 = simWhere.d10.includes(cp.body.id);
    assert.deepEqual({ d10: kinds(i10), d11: kinds(i11) }, {
      d10: [`late_approval@${lateId}`, ...(saleBookedOn10 ? [`missing_line@${sale}`] : [])].sort(),
      d11: [`late_approval@${lateRow.reversal_id}`, ...(!capBookedOn10 ? [] : [])].sort(),
    }, JSON.stringify(simWhere));
    assert.equal(await gw.app.ledger.verify(), undefined);
    const balances = await gw.app.ledger.balances(gw.merchant.merchantId);
    assert.equal(balances.filter((b: any) => b.kind === 'receivable').reduce((s: number, b: any) => s + b.balance, 0), 0, 'nothing stays receivable');
    // The simulator's own reports of the two days, imported afterwards, settle nothing twice and find nothing missing.
    const s10 = await importReport(gw, d10);
    const s11 = await importReport(gw, d11);
    assert.deepEqual([...kinds(s10), ...kinds(s11)].filter((k) => !k.startsWith('duplicate_line')), [], JSON.stringify({ s10: kinds(s10), s11: kinds(s11) }));
    assert.equal(await gw.app.ledger.verify(), undefined);
  } finally { await gw.close(); }
});

test('captures and refunds the PSP reports failed after confirming them, before and after a report settled them: the next day\'s report claws back only what was paid out', async () => {
  const { gw, clock } = await gateway(D + 60_000);
  try {
    const failed = (code: string) => ({ kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode: code, message: undefined, pspReference: undefined, details: {} });
    const attemptOf = async (tx: string) => (await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', tx).executeTakeFirstOrThrow()).id;
    // X: captured in part, the rest voided; settled on the 10th, reported failed on the 11th.
    const pa = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'PA', amount: '100.00', currency: 'EUR' }));
    const x = ok(await bo(gw, pa, 'CP', '60.00'));
    ok(await bo(gw, pa, 'RV'));
    // R: a partial refund of a sale, settled on the 10th, reported failed on the 11th.
    const s = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'DB', amount: '80.00', currency: 'EUR' }));
    const r = ok(await bo(gw, s, 'RF', '30.00'));
    ok(await bo(gw, s, 'RF', '10.00'));
    // Y: a capture reported failed the same day, before any report: it moved nothing.
    const pa2 = ok(await opp(gw, 'POST', '/v1/payments', { ...cardOf(), paymentType: 'PA', amount: '40.00', currency: 'EUR' }));
    const y = ok(await bo(gw, pa2, 'CP', '40.00'));
    assert.equal(await gw.app.payments.settleFromPsp('default', await attemptOf(y), failed('CAPTURE_FAILED'), { reverses: true }), true);
    await drain(gw, clock);
    const d10 = await simulated(gw, '2026-03-10');
    assert.ok(!d10.lines.some((l) => l.reference === y), 'the capture reported failed before any report is not in it');
    const i10 = await importReport(gw, d10);
    assert.deepEqual(i10.discrepancies, [], JSON.stringify(i10.discrepancies));
    assert.equal(await gw.app.ledger.verify(), undefined);

    clock.set(D + 86_400_000 + 3_600_000);
    assert.equal(await gw.app.payments.settleFromPsp('default', await attemptOf(x), failed('CAPTURE_FAILED'), { reverses: true }), true);
    assert.equal(await gw.app.payments.settleFromPsp('default', await attemptOf(r), failed('REFUND_FAILED'), { reverses: true }), true);
    await drain(gw, clock);
    assert.equal(await gw.app.ledger.verify(), undefined);
    const d11 = await simulated(gw, '2026-03-11');
    assert.deepEqual(d11.lines.map((l) => [l.reference, l.type, l.gross, l.fee]).sort(), [[x, 'capture', -6000, 0], [r, 'refund', 3000, 0]].sort(), JSON.stringify(d11.lines));
    const i11 = await importReport(gw, d11);
    assert.deepEqual(i11.discrepancies, [], JSON.stringify(i11.discrepancies));
    assert.equal(i11.summary.matched, 2);
    assert.equal(await gw.app.ledger.verify(), undefined);
    const balances = await gw.app.ledger.balances(gw.merchant.merchantId);
    const bal = (kind: string) => balances.filter((b: any) => b.kind === kind).reduce((n: number, b: any) => n + b.balance, 0);
    assert.equal(bal('receivable'), 0, 'nothing stays receivable');
    assert.equal(bal('settled'), d10.payouts.reduce((n, p) => n + p.amount, 0) + d11.payouts.reduce((n, p) => n + p.amount, 0));
    assert.equal(bal('fees'), d10.lines.reduce((n, l) => n + l.fee, 0));
    assert.equal(bal('authorized'), 4000, 'only Y, whose authorization is open again, stays held');
    const again = await importReport(gw, d11);
    assert.equal(again.imported, false);
  } finally { await gw.close(); }
});

test('a late approval at the second account of a cascade, reported by the attempt id that account was sent, is a late_approval of its payment, not an unknown reference', async () => {
  const clock = manualClock(D + 60_000);
  const gw = await startGateway({ clock, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
  // The simulated PSP behind the accounts loses the request of SHOPPER_lose at 'acq' (its status API finds nothing).
  const sim = gw.app.simulator as any;
  const forAccount = sim.forAccount;
  sim.forAccount = (id: string, settings: any) => {
    const c = forAccount(id, settings);
    const lost = new Set<string>();
    return { ...c, execute: (req: ConnectorRequest) => { if (req.testParameters['SHOPPER_lose'] && settings.declines.length === 0) { lost.add(req.attemptId); return new Promise(() => {}); } return c.execute(req); },
      lookup: async (aid: string, q: any) => (lost.has(aid) ? undefined : c.lookup(aid, q)) };
  };
  try {
    const m = gw.merchant.merchantId;
    assert.ok((await gw.app.workflows.putAccount(m, 'first', { connector: 'simulator', settings: { declines: [{ category: 'soft', amountAtLeast: 0 }] } })).ok);
    assert.ok((await gw.app.workflows.putAccount(m, 'acq', { connector: 'simulator', settings: {} })).ok);
    assert.ok((await gw.app.workflows.configure(m, 'payment-acceptance', { accounts: ['first', 'acq'], moveOn: ['soft', 'error'] })).ok);
    const db = await opp(gw, 'POST', '/v1/payments', { ...cardOf(), amount: '25.00', currency: 'EUR', paymentType: 'DB', 'customParameters[SHOPPER_lose]': '1' });
    assert.equal(db.body.result.code, unknownCode, JSON.stringify(db.body));
    clock.advance(60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    const account = await gw.app.settlement.account('acq', m);
    assert.ok(account.ok);
    const attempt = await gw.app.storage.db.selectFrom('attempts').select(['id', 'status', 'account_id']).where('payment_id', '=', db.body.id).where('account_id', '=', account.value.id).executeTakeFirstOrThrow();
    assert.equal(attempt.status, 'failed');
    assert.notEqual(attempt.id, db.body.id, 'acq was sent the second attempt\'s id, not the operation\'s');
    // The PSP approves it after all (its notification): a late approval, which the gateway reverses.
    await gw.app.payments.settleFromPsp(account.value.id, attempt.id, { kind: 'approved', pspReference: 'LATE-C', acquirerCode: success, details: {} });
    const row = await gw.app.storage.db.selectFrom('late_approvals').selectAll().where('attempt_id', '=', attempt.id).executeTakeFirst();
    assert.ok(row, 'recorded as a late approval');
    const vd = '2026-03-11';
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: m, day: '2026-03-10',
      // The PSP names the charge by the merchant reference it was sent (the attempt id), as the docs say it may.
      lines: [{ reference: attempt.id, pspReference: 'LATE-C', type: 'capture', gross: '25.00', fee: '0.58', net: '24.42', currency: 'EUR', valueDate: vd }],
      payouts: [{ currency: 'EUR', amount: '24.42', valueDate: vd }],
    });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const out = await gw.app.settlement.reconcile(account.value, parsed.value);
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies.map((d) => [d.kind, d.paymentId ?? null]), [['late_approval', db.body.id]], JSON.stringify(out.value.discrepancies));
  } finally { await gw.close(); }
});

test('a capture the PSP reports failed after the report of its day was made but before it was imported: its line is not an unknown reference', async () => {
  const { gw, clock } = await gateway(D + 60_000);
  try {
    // The PSP's report of the 10th is made at midnight (the capture in it); early on the 11th, before
    // the operator imports it, the PSP reports the capture failed.
    const { capture: x, d10 } = await capturedReportedThenFailed(gw, clock);
    const i10 = await importReport(gw, d10);
    assert.deepEqual(i10.discrepancies.map((d: any) => d.kind).filter((k: string) => k === 'unknown_reference'), [],
      `the gateway's own capture ${x} is not an unknown reference: ${JSON.stringify(i10.discrepancies)}`);
    assert.equal(await gw.app.ledger.verify(), undefined);
    // The PSP paid it out with the 10th and claws it back with the 11th's report.
    const d11 = await simulated(gw, '2026-03-11');
    const i11 = await importReport(gw, d11);
    assert.equal(await gw.app.ledger.verify(), undefined);
    const balances = await gw.app.ledger.balances(gw.merchant.merchantId);
    const settled = balances.filter((b: any) => b.kind === 'settled').reduce((n: number, b: any) => n + b.balance, 0);
    const paid = [...d10.payouts, ...d11.payouts].reduce((n, p) => n + p.amount, 0);
    assert.equal(settled, paid, `the books' settled money is what the PSP paid out over the two days: ${JSON.stringify({ i10: i10.discrepancies, i11: i11.discrepancies, d11: d11.lines })}`);
  } finally { await gw.close(); }
});
