import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';

async function payMany(gw: Gateway, n: number, mtx: string): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    const batch = Array.from({ length: Math.min(10, n - i) }, () => pay(gw, { merchantTransactionId: mtx, amount: '1.00' }));
    for (const r of await Promise.all(batch)) assert.equal(r.body.result.code, '000.100.110');
  }
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`GET /v1/query?merchantTransactionId= is paginated (${store})`, () => {
    test('pages of `limit` transactions, oldest first, with records, pageNo and pages; together they are the whole list', async (t) => {
      if (store === 'postgres' && !(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
      const gw = await startGateway({ store });
      try {
        await payMany(gw, 4, 'order-paged');
        // A capture joins the reference too: five transactions in all.
        const pa = await pay(gw, { merchantTransactionId: 'order-paged', paymentType: 'PA', amount: '3.00' });
        const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '3.00', currency: 'EUR', merchantTransactionId: 'order-paged' });
        assert.equal(cp.body.result.code, '000.100.110');
        const all = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-paged' });
        assert.equal(all.status, 200);
        assert.deepEqual([all.body.records, all.body.pageNo, all.body.pages], [6, 1, 1]);
        const everyId = all.body.payments.map((p: any) => p.id);
        assert.equal(new Set(everyId).size, 6);
        const seen: string[] = [];
        for (let pageNo = 1; pageNo <= 3; pageNo++) {
          const page = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-paged', limit: '2', pageNo: String(pageNo) });
          assert.equal(page.status, 200);
          assert.equal(page.body.result.code, '000.000.100');
          assert.deepEqual([page.body.records, page.body.pageNo, page.body.pages], [6, pageNo, 3]);
          assert.equal(page.body.payments.length, 2);
          seen.push(...page.body.payments.map((p: any) => p.id));
        }
        assert.deepEqual(seen, everyId, 'the pages, in order, are the whole list');
        const beyond = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-paged', limit: '2', pageNo: '4' });
        assert.equal(beyond.status, 200);
        assert.deepEqual(beyond.body.payments, []);
        assert.equal(beyond.body.records, 6);
      } finally {
        await gw.close();
      }
    });

    test('without limit a page holds at most 100; bad paging parameters are refused with the field named', async (t) => {
      if (store === 'postgres' && !(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
      const gw = await startGateway({ store });
      try {
        await payMany(gw, 103, 'order-big');
        const first = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-big' });
        assert.equal(first.body.payments.length, 100);
        assert.deepEqual([first.body.records, first.body.pages], [103, 2]);
        const second = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-big', pageNo: '2' });
        assert.equal(second.body.payments.length, 3);
        for (const [name, value] of [['limit', '0'], ['limit', '101'], ['limit', 'ten'], ['pageNo', '0'], ['pageNo', '-1'], ['pageNo', '1.5']] as const) {
          const r = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'order-big', [name]: value });
          assert.equal(r.status, 400, `${name}=${value}`);
          assert.equal(r.body.result.code, '200.300.404');
          assert.deepEqual(r.body.result.parameterErrors.map((e: any) => e.name), [name]);
        }
        const unknown = await opp(gw, 'GET', '/v1/query', { merchantTransactionId: 'no-such-order' });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.result.code, '700.400.580');
      } finally {
        await gw.close();
      }
    });
  });
}
