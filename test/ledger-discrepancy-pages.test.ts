/**
 * The admin list of settlement discrepancies pages: it read the oldest 10,000 and stopped, so after
 * a large report the newest never appeared and nothing said the list was cut. Pages of at most 1000,
 * oldest first, with a `next` cursor that walks every one once, many sharing a millisecond.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startGateway, type Gateway } from './support/harness.ts';
import { admin } from './support/webhooks.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

test('every open discrepancy is reached page by page, once, oldest first', async () => {
  const base = Date.now() - 3_600_000;
  const total = 2_350;
  const rows = Array.from({ length: total }, (_, n) => ({
    id: randomBytes(16).toString('hex'), report_id: 'report-big', psp_account_id: 'acct', merchant_id: gw.merchant.merchantId,
    kind: 'unknown_reference', reference: `line-${n}`, payment_id: null, operation_id: null, currency: 'EUR',
    expected_amount: null, reported_amount: 100, status: 'open', note: null, created_at: base + Math.floor(n / 300), resolved_at: null,
  }));
  for (let i = 0; i < total; i += 500) await gw.app.storage.db.insertInto('settlement_discrepancies').values(rows.slice(i, i + 500)).execute();
  const seen: string[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const r = await admin(gw, 'GET', `/ledger/discrepancies?status=open&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    sizes.push(r.body.discrepancies.length);
    seen.push(...r.body.discrepancies.map((d: { id: string }) => d.id));
    cursor = r.body.next;
    if (!cursor) break;
  }
  assert.deepEqual(sizes, [1000, 1000, 350]);
  assert.equal(new Set(seen).size, total, 'none twice');
  const order = [...rows].sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1)).map((r) => r.id);
  assert.deepEqual(seen, order, 'oldest first, ties by id');
});

test('a bad limit or cursor is refused, naming it', async () => {
  for (const [query, code] of [['limit=0', 'limit_invalid'], ['limit=1001', 'limit_invalid'], ['limit=abc', 'limit_invalid'], ['cursor=garbage', 'cursor_invalid']] as const) {
    const r = await admin(gw, 'GET', `/ledger/discrepancies?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.body.error.code, code, query);
  }
});
