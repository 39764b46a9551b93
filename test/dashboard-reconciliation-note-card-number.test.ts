/**
 * The Reconciliation page refuses a note holding a card number and does not print it back. A note
 * refused for another reason first (a control character, such as a tab pasted with it, or over
 * 2,000 characters) was printed back into the form's box whole, card number and all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, testCard, type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';
import { postForm, signIn, type DashboardSession } from './support/dashboard.ts';

const password = 'a long test password';
const clock = manualClock(Date.UTC(2026, 2, 10) + 60_000);
let gw: Gateway;
let unknown: string;
let session: DashboardSession;

before(async () => {
  ({ gw } = await gatewayWithSettlementAccount(clock, 'sqlite'));
  assert.ok((await gw.app.dashboard.addUser({ email: 'operator@example.com', role: 'operator', merchantId: gw.merchant.merchantId, password })).ok);
  session = await signIn(gw.url, 'operator@example.com', password);
  const sale = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '100.00', currency: 'EUR', paymentType: 'DB' });
  const report = {
    format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-10',
    lines: [
      { reference: sale.body.id, type: 'capture', gross: '100.00', fee: '0.00', net: '100.00', currency: 'EUR', valueDate: '2026-03-11' },
      { reference: 'nobody-knows-me', type: 'capture', gross: '5.00', fee: '0.00', net: '5.00', currency: 'EUR', valueDate: '2026-03-11' },
    ],
    payouts: [{ currency: 'EUR', amount: '105.00', valueDate: '2026-03-11' }],
  };
  const imported = await fetch(`${gw.url}/admin/api/ledger/reconciliations`, {
    method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ pspAccount: 'acq', merchantId: gw.merchant.merchantId, report }),
  });
  const body = await imported.json() as { discrepancies: { id: string; reference: string }[] };
  unknown = body.discrepancies.find((d) => d.reference === 'nobody-knows-me')!.id;
});
after(async () => { await gw?.close(); });

const resolve = (note: string) => postForm(gw.url, session, `/dashboard/reconciliation/${unknown}/resolve`, { _csrf: session.csrf, note });

test('a refused note holding a card number is never printed back, whatever else is wrong with it', async () => {
  const withTab = await resolve('refunded to 4200000000000000\tby hand');
  assert.equal(withTab.status, 400);
  const a = await withTab.text();
  assert.ok(!a.includes('4200000000000000'), 'a note with a control character and a card number: the card number is printed back into the form');
  const long = await resolve(`refunded to 4200000000000000 ${'x'.repeat(2100)}`);
  assert.equal(long.status, 400);
  const b = await long.text();
  assert.ok(!b.includes('4200000000000000'), 'a note over 2,000 characters with a card number: the card number is printed back into the form');
});
