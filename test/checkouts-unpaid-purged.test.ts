/**
 * A COPYandPAY checkout nobody paid is removed a day after it expired. Every widget page load makes
 * one, each holding the shopper's details (e-mail, name, address), and nothing removed them: the
 * table grew with ordinary traffic and kept personal data of payments that never happened. A
 * checkout that ever had a payment (paid, or declined and open again) stays readable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';

const pgUp = await postgresAvailable();
const day = 86_400_000;

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`checkouts expired unpaid are removed (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    const clock = manualClock(Date.UTC(2026, 2, 2, 9));
    let gw: Gateway;
    before(async () => { gw = await startGateway({ clock, store }); });
    after(async () => { await gw.close(); });

    const create = async (mtx: string) => {
      const c = await opp(gw, 'POST', '/v1/checkouts', {
        amount: '12.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: mtx,
        'customer.email': 'shopper@example.com', 'customer.givenName': 'Jane', 'billing.street1': '1 High Street',
      });
      assert.equal(c.body.result.code, '000.200.100', JSON.stringify(c.body));
      return c.body.id as string;
    };
    const widgetPay = async (id: string, pan: string) => {
      const res = await fetch(`${gw.url}/v1/checkouts/${id}/payment`, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'card.number': pan, 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' }),
      });
      return await res.json() as { result: { code: string } };
    };
    const stored = async (id: string) => (await gw.app.storage.db.selectFrom('checkouts').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

    test('an unpaid checkout goes a day after its expiry; paid and declined ones stay readable', async () => {
      const abandoned = await create('abandoned');
      const paid = await create('paid');
      const declined = await create('declined');
      assert.match((await widgetPay(paid, '4200000000000000')).result.code, /^000\.100\./);
      assert.match((await widgetPay(declined, '4000000000000002')).result.code, /^800\./);

      // Expired (30 minutes), but not yet a day past it: kept.
      clock.advance(day);
      await gw.app.jobs.runDue();
      assert.equal(await stored(abandoned), true, 'kept until a day past its expiry');
      for (let d = 0; d < 3; d++) { clock.advance(day); await gw.app.jobs.runDue(); }
      assert.equal(await stored(abandoned), false, 'a checkout expired unpaid days ago, with the shopper\'s details, is still stored');
      assert.equal((await opp(gw, 'GET', `/v1/checkouts/${abandoned}/payment`)).body.result.code, '200.300.404', 'answered as an expired one was');
      for (const id of [paid, declined]) {
        assert.equal(await stored(id), true);
        const r = await opp(gw, 'GET', `/v1/checkouts/${id}/payment`);
        assert.notEqual(r.body.result.code, '200.300.404', `a checkout with a payment stays readable: ${JSON.stringify(r.body.result)}`);
      }
    });
  });
}
