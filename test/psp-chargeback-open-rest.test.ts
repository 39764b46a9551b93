/**
 * A chargeback takes back the money that moved; an authorization's uncaptured rest is still held,
 * and is still released when the authorization expires (a PSP's reported chargeback and a
 * merchant's own CB alike: both are the engine's chargeback).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard } from './support/harness.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

test('an authorization partly captured and then charged back still has its open rest released when it expires', async () => {
  const clock = manualClock(Date.UTC(2026, 0, 5, 12));
  const gw = await startGateway({ clock, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '7' } });
  try {
    const pa = await opp(gw, 'POST', '/v1/payments', { amount: '50.00', currency: 'EUR', paymentType: 'PA', ...testCard });
    assert.equal(pa.body.result.code, '000.100.110');
    // Half shipped: 30.00 captured, 20.00 left on hold; the shopper disputes the part charged.
    assert.equal((await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '30.00', currency: 'EUR' })).body.result.code, '000.100.110');
    assert.equal((await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CB', amount: '30.00', currency: 'EUR' })).body.result.code, '000.100.110');
    clock.advance(8 * 86_400_000);
    assert.equal(await gw.app.payments.expireAuthorizations(), 1, 'the chargeback made the expiry job take the hold for closed');
    const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', pa.body.id).orderBy('seq').execute();
    assert.deepEqual(ops.map((o) => [o.type, o.status, Number(o.amount)]).at(-1), ['void', 'succeeded', 2000], JSON.stringify(ops));
    const held = ledgerTotalsOf(await gw.app.ledger.paymentPostings(pa.body.id)).held;
    const authorized = (await gw.app.ledger.balances(gw.merchant.merchantId)).find((b) => b.kind === 'authorized')?.balance;
    assert.deepEqual({ held, authorized }, { held: 0, authorized: 0 }, '20.00 stayed authorized in the books for ever');
    assert.equal(await gw.app.ledger.verify(), undefined);
  } finally { await gw.close(); }
});
