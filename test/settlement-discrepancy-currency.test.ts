/**
 * A settlement line in another currency than the ledger's movement it names is an
 * `amount_mismatch`; its record, the merchant's webhook and the admin API keep the ledger's
 * currency beside the line's. With the line's currency alone, a EUR 50.00 capture reported as
 * USD 50.00 read "USD, expected 5000, reported 5000": the two sides seemingly agreeing, EUR nowhere,
 * and a figure of a currency with other decimals at the wrong scale.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { opp, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const dayStart = Date.UTC(2026, 2, 10);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const clock = manualClock(dayStart + 60_000);
let gw: Gateway;
let account: SettlementAccount;
before(async () => { ({ gw, account } = await gatewayWithSettlementAccount(clock, 'sqlite')); });
after(() => gw?.close());

/** Imports a report of one capture line (no fee) and answers its discrepancies. */
async function reconcileCapture(reference: string, gross: string, currency: string) {
  const valueDate = iso(clock.now() + 86_400_000);
  const parsed = parseSettlementReport({
    format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: iso(clock.now()),
    lines: [{ reference, type: 'capture', gross, fee: '0.00', net: gross, currency, valueDate }],
    payouts: [{ currency, amount: gross, valueDate }],
  });
  assert.ok(parsed.ok);
  const out = await gw.app.settlement.reconcile(account, parsed.value);
  assert.ok(out.ok);
  return out.value.discrepancies;
}

test('a USD line naming a EUR capture: the discrepancy says the ledger expected EUR 50.00 and the report said USD 50.00', async () => {
  const sale = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '50.00', currency: 'EUR', paymentType: 'DB' });
  assert.equal(sale.body.result.code, '000.100.110', JSON.stringify(sale.body));
  const [d, ...rest] = await reconcileCapture(sale.body.id, '50.00', 'USD');
  assert.deepEqual(rest, []);
  assert.deepEqual([d!.kind, d!.currency, d!.reported, d!.expectedCurrency, d!.expected], ['amount_mismatch', 'USD', 5000, 'EUR', 5000]);

  const [stored] = await gw.app.settlement.discrepancies({ id: d!.id });
  assert.equal(stored!.expectedCurrency, 'EUR', 'kept with the record');
  const event = await gw.app.storage.db.selectFrom('outbox').select('payload').where('subject_id', '=', d!.id).executeTakeFirstOrThrow();
  const details = JSON.parse(event.payload).details;
  assert.deepEqual([details.currency, details.reportedAmount, details.expectedCurrency, details.expectedAmount], ['USD', 5000, 'EUR', 5000]);
});

test('a line in the movement\'s own currency names no other', async () => {
  const sale = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '20.00', currency: 'EUR', paymentType: 'DB' });
  const mismatch = (await reconcileCapture(sale.body.id, '19.00', 'EUR')).find((x) => x.kind === 'amount_mismatch')!;
  assert.deepEqual([mismatch.currency, mismatch.expected, mismatch.reported, mismatch.expectedCurrency], ['EUR', 2000, 1900, undefined]);
});
