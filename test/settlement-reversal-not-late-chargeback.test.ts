/**
 * A `late_chargeback` is a chargeback of a capture the gateway has no chargeback for. A PSP's
 * `chargeback_reversal` line (money given back to the merchant) naming a capture whose chargeback the
 * gateway has recorded, but whose reversal it has not, was opened as a `late_chargeback`: the
 * merchant's settlementDiscrepancyOpened webhook told it a scheme took money back, when the report
 * says the opposite. It is an `unknown_reference` (no movement of that type), naming the payment.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { opp, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const clock = manualClock(Date.UTC(2026, 2, 10, 12));
let gw: Gateway;
let account: SettlementAccount;
before(async () => { ({ gw, account } = await gatewayWithSettlementAccount(clock, 'sqlite')); });
after(() => gw?.close());

test('a reported chargeback reversal the gateway has not recorded is not called a late chargeback', async () => {
  const sale = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '100.00', currency: 'EUR', paymentType: 'DB' });
  assert.equal(sale.body.result.code, '000.100.110', JSON.stringify(sale.body));
  const cb = await opp(gw, 'POST', `/v1/payments/${sale.body.id}`, { paymentType: 'CB', amount: '100.00', currency: 'EUR' });
  assert.equal(cb.body.result.code, '000.100.110', JSON.stringify(cb.body));
  const parsed = parseSettlementReport({
    format: 'switchyard-settlement-report/1', pspAccount: 'acq', day: '2026-03-10',
    lines: [{ reference: sale.body.id, type: 'chargeback_reversal', gross: '100.00', fee: '0.00', net: '100.00', currency: 'EUR', valueDate: '2026-03-11' }],
    payouts: [{ currency: 'EUR', amount: '100.00', valueDate: '2026-03-11' }],
  });
  assert.ok(parsed.ok);
  const out = await gw.app.settlement.reconcile(account, parsed.value);
  assert.ok(out.ok, JSON.stringify(out));
  const forLine = out.value.discrepancies.filter((d) => d.reference === sale.body.id && d.reported === 10000);
  assert.equal(forLine.length, 1, JSON.stringify(out.value.discrepancies));
  assert.notEqual(forLine[0]!.kind, 'late_chargeback',
    `a reversal (money back to the merchant) was opened as a late chargeback: ${JSON.stringify(forLine[0])}`);
  assert.equal(forLine[0]!.kind, 'unknown_reference');
  assert.equal(forLine[0]!.paymentId, sale.body.id, 'it names the payment whose capture the line names');
  assert.equal(forLine[0]!.expected, undefined, 'the ledger has no record of it: it says nothing, not 0');
});
