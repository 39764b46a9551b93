/**
 * The admin API's lists ignored a query parameter they did not know, so a misspelt filter answered
 * with everything, unfiltered, as if it had been applied. The names differ between lists (the
 * payment search filters by `merchant`, the ledger and webhook lists by `merchantId`), so the
 * slip is an easy one: `GET /admin/api/ledger/discrepancies?merchant=M` listed every merchant's
 * discrepancies, `GET /admin/api/ledger/postings?…&merchant=M` exported every merchant's postings
 * as this merchant's, `GET /admin/api/payments?merchantId=M` every merchant's payments. Each is now
 * a 400 naming the parameter it does not know.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { admin } from './support/webhooks.ts';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`unknown admin query parameters (${store})`, () => {
    let gw: Gateway;
    let other: string;
    before(async () => {
      gw = await startGateway({ store });
      other = (await gw.app.merchants.create({ name: 'Other Merchant' })).merchantId;
      // Another merchant's discrepancy and payment: what a filter for this merchant must not show.
      await gw.app.storage.db.insertInto('settlement_discrepancies').values({
        id: randomBytes(16).toString('hex'), report_id: 'r1', psp_account_id: 'acct', merchant_id: other,
        kind: 'unknown_reference', reference: 'line-1', payment_id: null, operation_id: null, currency: 'EUR',
        expected_amount: null, reported_amount: 100, status: 'open', note: null, created_at: Date.now(), resolved_at: null,
      } as never).execute();
      assert.equal((await pay(gw)).status, 200);
    });
    after(async () => { await gw?.close(); });

    const m = () => gw.merchant.merchantId;
    const cases: [string, () => string, string][] = [
      ['ledger discrepancies with merchant= for merchantId=', () => `/ledger/discrepancies?status=open&merchant=${other}`, 'merchant'],
      ['ledger discrepancies with a misspelt status', () => `/ledger/discrepancies?stauts=resolved`, 'stauts'],
      ['ledger postings export with merchant= for merchantId=', () => `/ledger/postings?from=2026-01-01&to=2026-02-01&merchant=${m()}`, 'merchant'],
      ['ledger balances with an unknown parameter', () => `/ledger/balances?merchantId=${m()}&currency=EUR`, 'currency'],
      ['webhook deliveries with merchant= for merchantId=', () => `/webhooks/deliveries?merchant=${m()}`, 'merchant'],
      ['webhook endpoints with merchant= for merchantId=', () => `/webhooks/endpoints?merchant=${m()}`, 'merchant'],
      ['payments with merchantId= for merchant=', () => `/payments?merchantId=${other}`, 'merchantId'],
      ['payments with a misspelt status', () => `/payments?stat=captured`, 'stat'],
    ];
    for (const [name, path, param] of cases) {
      test(`${name} is refused naming ${param}`, async () => {
        const r = await admin(gw, 'GET', path());
        assert.equal(r.status, 400, `answered as if unfiltered: ${JSON.stringify(r.body).slice(0, 300)}`);
        assert.match(r.body.error.message, new RegExp(`\\b${param}\\b`));
      });
    }

    test('a misspelt payments filter does not answer with another merchant\'s payments (shown: it lists all)', async () => {
      const r = await admin(gw, 'GET', `/payments?merchantId=${other}`);
      // The other merchant has no payment; this merchant's showing up is the misread filter.
      if (r.status === 200) assert.deepEqual(r.body.payments.map((p: any) => p.merchantId).filter((id: string) => id !== other), []);
    });

    test('removing an origin without naming it is a 400 naming origin, not 404 "not registered"', async () => {
      const res = await fetch(`${gw.url}/admin/merchants/${m()}/origins?orign=https://shop.example`, { method: 'DELETE', headers: { authorization: `Bearer ${gw.app.admin.token}` } });
      const body = await res.json() as any;
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(body.error.message, /origin/);
    });

    test('webhook lists for a merchant that does not exist are a 404, as the ledger\'s and the CLI\'s are', async () => {
      for (const path of [`/webhooks/endpoints?merchantId=${'f'.repeat(32)}`, `/webhooks/deliveries?merchantId=${'f'.repeat(32)}`]) {
        const r = await admin(gw, 'GET', path);
        assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'merchant_not_found');
      }
    });
  });
}
