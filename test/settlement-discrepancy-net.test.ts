/**
 * A settlement line whose gross agrees with the capture it names but whose net is not gross less fee
 * is an `amount_mismatch`, and a discrepancy is stored with what the ledger expected and what the
 * report said. The record, the admin API and the merchant's webhook held only the two grosses:
 * "EUR, expected 10000, reported 10000", the two sides seemingly agreeing, and the report's wrong net
 * (what the PSP actually paid) was nowhere. They keep the line's fee and net now.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const dayStart = Date.UTC(2026, 2, 10);
const clock = manualClock(dayStart + 60_000);
let gw: Gateway;
before(async () => { ({ gw } = await gatewayWithSettlementAccount(clock, 'sqlite')); });
after(() => gw?.close());

test('a line whose net is not gross less fee: the discrepancy shows a disagreement, not "expected 10000, reported 10000"', async () => {
  const sale = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '100.00', currency: 'EUR', paymentType: 'DB' });
  assert.equal(sale.body.result.code, '000.100.110', JSON.stringify(sale.body));
  const report = {
    format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-10',
    // The fee is 1.70, but the net says the PSP paid the gross in full.
    lines: [{ reference: sale.body.id, type: 'capture', gross: '100.00', fee: '1.70', net: '100.00', currency: 'EUR', valueDate: '2026-03-11' }],
    payouts: [{ currency: 'EUR', amount: '100.00', valueDate: '2026-03-11' }],
  };
  const res = await fetch(`${gw.url}/admin/api/ledger/reconciliations`, {
    method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ pspAccount: 'acq', merchantId: gw.merchant.merchantId, report }),
  });
  const body = await res.json() as any;
  assert.equal(res.status, 201, JSON.stringify(body));
  const d = body.discrepancies.find((x: { kind: string }) => x.kind === 'amount_mismatch');
  assert.ok(d, `an amount_mismatch: ${JSON.stringify(body.discrepancies)}`);
  assert.deepEqual({ expected: d.expected, reported: d.reported, reportedFee: d.reportedFee, reportedNet: d.reportedNet }, { expected: 10000, reported: 10000, reportedFee: 170, reportedNet: 10000 },
    `the amount_mismatch tells the report's fee and net: ${JSON.stringify(d)}`);
  const listed = await fetch(`${gw.url}/admin/api/ledger/discrepancies?reportId=${d.reportId}`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
  const stored = ((await listed.json()) as { discrepancies: { id: string; reportedFee?: number; reportedNet?: number }[] }).discrepancies.find((x) => x.id === d.id);
  assert.deepEqual([stored?.reportedFee, stored?.reportedNet], [170, 10000], 'as stored');
  const event = await gw.app.storage.db.selectFrom('outbox').select('payload').where('subject_id', '=', d.id).executeTakeFirstOrThrow();
  const details = JSON.parse(event.payload).details;
  assert.deepEqual([details.expectedAmount, details.reportedAmount, details.reportedFee, details.reportedNet], [10000, 10000, 170, 10000],
    `the merchant's settlementDiscrepancyOpened tells the report's fee and net: ${JSON.stringify(details)}`);
});
