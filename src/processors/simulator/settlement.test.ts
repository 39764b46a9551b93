import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Currency } from '../../money/money.ts';
import { parseSettlementReport, serializeSettlementReport } from '../settlement-report.ts';
import { defaultFees, feeOf, parseFees, settlementInjections, simulatedSettlementReport, type ProcessedMovement } from './settlement.ts';
import { parseSettings } from './settings.ts';

const EUR = 'EUR' as Currency, JPY = 'JPY' as Currency;
const movement = (reference: string, type: ProcessedMovement['type'], amount: number, currency = EUR): ProcessedMovement => ({ reference, pspReference: undefined, type, amount, currency });

test('fees: a share plus a fixed part on captures, fixed on refunds and chargebacks, none on a reversal', () => {
  const fees = { captureBps: 150, captureFixed: 20, refundFixed: 5, chargebackFixed: 1500 };
  assert.equal(feeOf(fees, 'capture', 10_000), 170);
  assert.equal(feeOf(fees, 'refund', 10_000), 5);
  assert.equal(feeOf(fees, 'chargeback', 10_000), 1500);
  assert.equal(feeOf(fees, 'chargeback_reversal', 10_000), 0);
});

test('fees are read from a PSP account\'s settings; bad ones are refused naming the field', () => {
  assert.deepEqual(parseFees(undefined), { ok: true, value: defaultFees });
  assert.deepEqual(parseFees({ captureBps: 100 }), { ok: true, value: { ...defaultFees, captureBps: 100 } });
  assert.equal(parseFees({ captureBps: -1 }).ok, false);
  assert.equal(parseFees({ refundFixed: 1.5 }).ok, false);
  const s = parseSettings({ fees: { chargebackFixed: 900 } });
  assert.ok(s.ok && s.value.fees?.chargebackFixed === 900);
  const bad = parseSettings({ fees: { captureBps: 20_000 } });
  assert.ok(!bad.ok && /fees.captureBps/.test(bad.error));
});

test('a report: signed lines settled the next day, payouts the sum of the nets per currency, and it reads back as written', () => {
  fc.assert(fc.property(fc.array(fc.record({
    type: fc.constantFrom('capture' as const, 'refund' as const, 'chargeback' as const, 'credit' as const, 'chargeback_reversal' as const),
    amount: fc.integer({ min: 1, max: 10_000_000 }), currency: fc.constantFrom(EUR, JPY),
  }), { maxLength: 40 }), (ms) => {
    const { report } = simulatedSettlementReport({
      pspAccount: 'acq', merchantId: 'm1', day: '2026-02-28', fees: defaultFees,
      movements: ms.map((m, i) => movement(`op${i}`, m.type, m.amount, m.currency)),
    });
    for (const l of report.lines) {
      assert.equal(l.valueDate, '2026-03-01');
      assert.equal(l.net, l.gross - l.fee);
      assert.equal(Math.sign(l.gross), l.type === 'capture' || l.type === 'chargeback_reversal' ? 1 : -1);
    }
    for (const p of report.payouts) assert.equal(p.amount, report.lines.filter((l) => l.currency === p.currency).reduce((s, l) => s + l.net, 0));
    assert.deepEqual(parseSettlementReport(serializeSettlementReport(report)), { ok: true, value: report });
  }));
});

test('each injected disagreement lands on its own line and is named', () => {
  const movements = Array.from({ length: 10 }, (_, i) => movement(`op${i}`, 'capture', 1000 + i));
  const { report, injected } = simulatedSettlementReport({ pspAccount: 'acq', merchantId: undefined, day: '2026-01-01', fees: defaultFees, movements, inject: settlementInjections, random: () => 0.5 });
  assert.deepEqual(injected.map((i) => i.kind).sort(), [...settlementInjections].sort());
  assert.equal(new Set(injected.map((i) => i.reference)).size, 4);
  const at = (kind: string) => injected.find((i) => i.kind === kind)!.reference;
  assert.equal(report.lines.some((l) => l.reference === at('missing_line')), false);
  assert.equal(report.lines.find((l) => l.reference === at('amount_mismatch'))!.gross, 1000 + Number(at('amount_mismatch').slice(2)) + 100);
  assert.equal(report.lines.find((l) => l.reference === at('unknown_reference'))!.type, 'capture');
  assert.deepEqual(report.lines.filter((l) => l.reference === at('late_chargeback')).map((l) => l.type).sort(), ['capture', 'chargeback']);
});

test('the late chargeback is never injected on the unknown reference\'s line (it is not one of the day\'s captures)', () => {
  const movements = Array.from({ length: 10 }, (_, i) => movement(`op${i}`, 'capture', 1000 + i));
  // Each pick takes the last free capture line: the unknown reference's, appended just before, were it free.
  const { injected } = simulatedSettlementReport({ pspAccount: 'acq', merchantId: undefined, day: '2026-01-01', fees: defaultFees, movements, inject: settlementInjections, random: () => 0.9999 });
  const at = (kind: string) => injected.find((i) => i.kind === kind)!.reference;
  assert.notEqual(at('late_chargeback'), at('unknown_reference'));
  assert.match(at('late_chargeback'), /^op\d$/);
});

test('the late chargeback is never injected on a capture already charged back that day (its line would repeat that chargeback)', () => {
  const movements = [
    ...Array.from({ length: 10 }, (_, i) => movement(`op${i}`, 'capture', 1000 + i)),
    ...Array.from({ length: 9 }, (_, i) => movement(`op${i}`, 'chargeback', 1000 + i)),
  ];
  for (const r of [0, 0.5, 0.9999]) {
    const { injected } = simulatedSettlementReport({ pspAccount: 'acq', merchantId: undefined, day: '2026-01-01', fees: defaultFees, movements, inject: ['late_chargeback'], random: () => r });
    assert.deepEqual(injected, [{ kind: 'late_chargeback', reference: 'op9' }]);
  }
});

test('a report file is refused plainly when malformed', () => {
  const good = JSON.parse(serializeSettlementReport(simulatedSettlementReport({ pspAccount: 'acq', merchantId: undefined, day: '2026-01-01', fees: defaultFees, movements: [movement('op1', 'capture', 500)] }).report));
  assert.equal(parseSettlementReport('not json').ok, false);
  assert.match((parseSettlementReport({ ...good, format: 'x' }) as { error: string }).error, /format/);
  assert.match((parseSettlementReport({ ...good, day: '2026-02-30' }) as { error: string }).error, /day/);
  assert.match((parseSettlementReport({ ...good, lines: [{ ...good.lines[0], gross: '5.0' }] }) as { error: string }).error, /lines\[0\]\.gross/);
  assert.match((parseSettlementReport({ ...good, lines: [{ ...good.lines[0], fee: '-1.00' }] }) as { error: string }).error, /lines\[0\]\.fee/);
  assert.match((parseSettlementReport({ ...good, lines: [{ ...good.lines[0], type: 'sale' }] }) as { error: string }).error, /lines\[0\]\.type/);
});
