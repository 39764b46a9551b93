/**
 * A settlement report file cut short (a download interrupted, a disk full) is refused,
 * changes nothing, and the refusal says where the file stops making sense: the line and column.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualClock } from '../src/runtime/clock.ts';
import { Cvv, Pan } from '../src/vault/card.ts';
import type { Currency } from '../src/money/money.ts';
import { type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';
import { parseSettlementReport } from '../src/processors/settlement-report.ts';

const dayStart = Date.UTC(2026, 2, 10);
const card = () => ({ pan: new Pan('4200000000000000'), cvv: new Cvv('123'), holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034', brand: 'VISA' as const });

describe('a truncated settlement report (sqlite)', () => {
  const clock = manualClock(dayStart + 60_000);
  let gw: Gateway;
  before(async () => { ({ gw } = await gatewayWithSettlementAccount(clock, 'sqlite')); });
  after(async () => { await gw?.close(); });

  const count = async (table: 'postings' | 'settlement_reports' | 'settlement_discrepancies') =>
    Number((await gw.app.storage.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  test('the CLI refuses a report cut off in the middle of a line, naming the line and column where it ends, and changes nothing', async () => {
    const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
    const r = await gw.app.payments.pay({ merchant, scope: { channel: 'opp', entityId: gw.merchant.entityId }, returnUrls: [], merchantTransactionId: undefined, context: {}, testParameters: {},
      workflowCode: 'payment-acceptance', kind: 'sale', amount: { amount: 9200, currency: 'EUR' as Currency }, card: card() });
    assert.ok(r.ok);
    const full = JSON.stringify({ format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: merchant.id, day: '2026-03-10',
      lines: Array.from({ length: 40 }, () => ({ reference: r.value.operation.id, type: 'capture', gross: '92.00', fee: '1.58', net: '90.42', currency: 'EUR', valueDate: '2026-03-11' })),
      payouts: [{ currency: 'EUR', amount: '3616.80', valueDate: '2026-03-11' }] }, null, 2);
    // Cut in the middle of line 30 of the file, as an interrupted download leaves it.
    const cut = full.split('\n').slice(0, 30).join('\n') + '\n      "gross": "92.';
    const file = join(gw.dataDir, 'report-2026-03-10.json');
    writeFileSync(file, cut);
    const before = [await count('postings'), await count('settlement_reports'), await count('settlement_discrepancies')];
    const env: Record<string, string> = { ...process.env as Record<string, string>, SWITCHYARD_DATA_DIR: gw.dataDir };
    delete env.DATABASE_URL;
    const res = spawnSync(process.execPath, ['src/cli/main.ts', 'reconcile', '--psp-account', 'acq', '--merchant', merchant.id, '--file', file], { env, encoding: 'utf8' });
    assert.equal(res.status, 1, res.stderr);
    assert.deepEqual([await count('postings'), await count('settlement_reports'), await count('settlement_discrepancies')], before, 'nothing changed');
    // Where the file stops being JSON: line 31 (or its end), so the operator knows it was cut short.
    assert.match(res.stderr, /line 31\b.*column \d+|ends? (too soon|unexpectedly|early)|unexpected end|truncated/i, `the refusal says where: ${res.stderr}`);
  });
});

test('where a report breaks is told by line and column only: the text around it (a card number, in a report keyed by cards) is not quoted', () => {
  const r = parseSettlementReport('{"format": "switchyard-settlement-report/1",\n "lines": [{"reference": 4111111111111111 x}]}');
  assert.equal(r.ok, false);
  assert.ok(!r.ok && !/4111/.test(r.error), !r.ok ? r.error : '');
  const cut = parseSettlementReport('{"format": "switchyard-settlement-report/1",\n "lines": [{"reference": "4111111111111111');
  assert.ok(!cut.ok && /line 2, column \d+ \(the file ends too soon\)/.test(cut.error) && !/4111/.test(cut.error), !cut.ok ? cut.error : '');
});
