/**
 * A settlement line keyed by the card (its reference a card number) whose `pspReference` names a
 * movement of ours: the line is matched through the PSP's reference, and the discrepancy it opens
 * (an amount mismatch, a duplicate line) carries the line's reference. Only `unknown_reference`
 * masked a card number; these kinds kept, showed and sent it in plain text. A reference that is a
 * name of the operation (its id) stays whole.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { newCanary } from './support/canary.ts';
import { opp, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const dayStart = Date.UTC(2026, 2, 10);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('settlement: a line keyed by the card, found through its PSP reference', () => {
  const clock = manualClock(dayStart + 60_000);
  let gw: Gateway; let account: SettlementAccount;
  before(async () => { ({ gw, account } = await gatewayWithSettlementAccount(clock, 'sqlite')); });
  after(async () => { await gw?.close(); });

  const dump = async () => JSON.stringify(await gw.app.storage.db.selectFrom('settlement_discrepancies').selectAll().execute())
    + JSON.stringify(await gw.app.storage.db.selectFrom('outbox').selectAll().execute())
    + JSON.stringify(await gw.app.storage.db.selectFrom('settlement_reports').selectAll().execute());

  for (const kind of ['amount_mismatch', 'duplicate_line'] as const) {
    test(`${kind}: the card number in the line's reference is not kept, returned or sent in plain text`, async () => {
      const db = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(db.body.result.code, '000.100.110', JSON.stringify(db.body));
      const attempt = await gw.app.storage.db.selectFrom('attempts').select(['psp_reference']).where('transaction_id', '=', db.body.id).executeTakeFirstOrThrow();
      assert.ok(attempt.psp_reference);
      const { pan } = newCanary();
      const vd = iso(clock.now() + 86_400_000);
      const line = (gross: string) => ({ reference: pan, pspReference: attempt.psp_reference!, type: 'capture', gross, fee: '0.00', net: gross, currency: 'EUR', valueDate: vd });
      const lines = kind === 'amount_mismatch' ? [line('99.00')] : [line('10.00'), line('10.00')];
      const parsed = parseSettlementReport({
        format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: iso(clock.now()),
        lines, payouts: [{ currency: 'EUR', amount: kind === 'amount_mismatch' ? '99.00' : '20.00', valueDate: vd }],
      });
      assert.ok(parsed.ok);
      const out = await gw.app.settlement.reconcile(account, parsed.value);
      assert.ok(out.ok);
      assert.ok(out.value.discrepancies.some((d) => d.kind === kind), JSON.stringify(out.value.discrepancies.map((d) => d.kind)));
      assert.ok(!JSON.stringify(out.value).includes(pan), 'PAN in the reconciliation outcome');
      assert.ok(!(await dump()).includes(pan), 'PAN in settlement_discrepancies / the outbox event');
    });
  }
});

describe('settlement: a line naming the operation by its own id', () => {
  const clock = manualClock(dayStart + 60_000);
  let gw: Gateway; let account: SettlementAccount;
  before(async () => { ({ gw, account } = await gatewayWithSettlementAccount(clock, 'sqlite')); });
  after(async () => { await gw?.close(); });

  test('an amount mismatch keeps the operation\'s id whole as its reference', async () => {
    const db = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB' });
    const vd = iso(clock.now() + 86_400_000);
    const parsed = parseSettlementReport({
      format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: iso(clock.now()),
      lines: [{ reference: db.body.id, type: 'capture', gross: '99.00', fee: '0.00', net: '99.00', currency: 'EUR', valueDate: vd }],
      payouts: [{ currency: 'EUR', amount: '99.00', valueDate: vd }],
    });
    assert.ok(parsed.ok);
    const out = await gw.app.settlement.reconcile(account, parsed.value);
    assert.ok(out.ok);
    assert.deepEqual(out.value.discrepancies.filter((d) => d.kind === 'amount_mismatch').map((d) => d.reference), [db.body.id]);
  });
});
