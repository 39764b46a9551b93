/**
 * A dispute's course as a PSP reports it (Adyen's CHARGEBACK, CHARGEBACK_REVERSED, SECOND_CHARGEBACK),
 * its settlement lines naming the capture. The issuer's second chargeback stands as the first did:
 * a report repeating its settled line is a `duplicate_line`. It was called a `late_chargeback` (a
 * chargeback the gateway lacks) because any reversal on the payment made every chargeback line read
 * as one after the dispute ended, and the merchant's webhook said a scheme took money back that the
 * gateway had no record of.
 */
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { money, type Currency } from '../src/money/money.ts';
import { parseSettlementReport, type SettlementReport } from '../src/processors/settlement-report.ts';
import type { SettlementAccount } from '../src/ledger/store.ts';
import { opp, postgresAvailable, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';

const pgUp = await postgresAvailable();
const dayStart = Date.UTC(2026, 2, 10);
const day = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
type Line = readonly [reference: string, type: string, gross: string];

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`a second presentment settled, then reported again (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let clock = manualClock(dayStart + 60_000);
    let gw: Gateway | undefined;
    let account: SettlementAccount;
    beforeEach(async () => {
      await gw?.close();
      clock = manualClock(dayStart + 60_000);
      ({ gw, account } = await gatewayWithSettlementAccount(clock, store));
    });
    after(async () => { await gw?.close(); });

    const report = (lines: readonly Line[], payout: string): SettlementReport => {
      const valueDate = iso(clock.now() + day);
      const p = parseSettlementReport({
        format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw!.merchant.merchantId, day: iso(clock.now()),
        lines: lines.map(([reference, type, gross]) => ({ reference, type, gross, fee: '0.00', net: gross, currency: 'EUR', valueDate })),
        payouts: [{ currency: 'EUR', amount: payout, valueDate }],
      });
      assert.ok(p.ok);
      return p.value;
    };
    const kindsOf = async (r: SettlementReport) => {
      const out = await gw!.app.settlement.reconcile(account, r);
      assert.ok(out.ok, JSON.stringify(out));
      return { kinds: out.value.discrepancies.map((d) => d.kind).sort(), matched: out.value.summary.matched };
    };

    test('the repeated line of the standing second chargeback is a duplicate_line', async () => {
      const sale = await opp(gw!, 'POST', '/v1/payments', { ...testCard, amount: '50.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(sale.body.result.code, '000.100.110', JSON.stringify(sale.body));
      const pspReference = (await gw!.app.storage.db.selectFrom('transactions').select('psp_reference').where('id', '=', sale.body.id).executeTakeFirstOrThrow()).psp_reference!;
      const dispute = async (kind: 'chargeback' | 'chargeback_reversal', event: string, paymentReference: string | undefined) => {
        const r = await gw!.app.payments.recordDispute(account.id, {
          kind, event, paymentReference, disputeReference: 'DISPUTE00000001', eventId: `${event}-1`,
          amount: money(5000, 'EUR' as Currency), occurredAt: clock.now(),
        });
        assert.equal(r.kind, 'recorded', JSON.stringify(r));
      };
      await dispute('chargeback', 'CHARGEBACK', pspReference);
      await dispute('chargeback_reversal', 'CHARGEBACK_REVERSED', undefined);
      const id = sale.body.id as string;
      assert.deepEqual(await kindsOf(report([[id, 'capture', '50.00'], [id, 'chargeback', '-50.00'], [id, 'chargeback_reversal', '50.00']], '50.00')), { kinds: [], matched: 3 });

      clock.advance(day);
      await dispute('chargeback', 'SECOND_CHARGEBACK', undefined);
      assert.deepEqual(await kindsOf(report([[id, 'chargeback', '-50.00']], '-50.00')), { kinds: [], matched: 1 }, 'the new chargeback is settled');

      clock.advance(day);
      assert.deepEqual(await kindsOf(report([[id, 'chargeback', '-50.00']], '-50.00')), { kinds: ['duplicate_line'], matched: 0 },
        'the gateway has this chargeback, settled, and it stands: the line repeats it');
      assert.equal(await gw!.app.ledger.verify(), undefined);
    });
  });
}
