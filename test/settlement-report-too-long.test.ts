/**
 * A settlement report longer than the importer takes (1,000,000 lines, 200 payouts) is refused saying
 * so, with the limit. It was refused with "lines must be a list" / "payouts must be a list": they are
 * lists, and a PSP's month-end file read as malformed, with nothing to tell the operator to split it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';

const base = { format: 'switchyard-settlement-report/1', pspAccount: 'acq', day: '2026-03-10' };
const line = { reference: 'op', type: 'capture', gross: '1.00', fee: '0.00', net: '1.00', currency: 'EUR', valueDate: '2026-03-11' };

test('a report with too many lines is refused saying so, not "lines must be a list"', () => {
  const r = parseSettlementReport({ ...base, lines: Array(1_000_001).fill(line), payouts: [] });
  assert.equal(r.ok, false);
  const error = (r as { error: string }).error;
  assert.doesNotMatch(error, /^lines must be a list$/, `refused as if it were no list: ${error}`);
  assert.match(error, /lines/);
  assert.match(error, /1[ ,.]?000[ ,.]?000|at most|too many/i, error);
});

test('a report with too many payouts is refused saying so, not "payouts must be a list"', () => {
  const r = parseSettlementReport({ ...base, lines: [], payouts: Array(201).fill({ currency: 'EUR', amount: '0.00', valueDate: '2026-03-11' }) });
  assert.equal(r.ok, false);
  const error = (r as { error: string }).error;
  assert.doesNotMatch(error, /^payouts must be a list$/, `refused as if it were no list: ${error}`);
  assert.match(error, /200|at most|too many/i, error);
});
