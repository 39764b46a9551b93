/**
 * The ledger's admin lists take a query parameter given empty as one not given, as the payment search
 * does: `GET /admin/api/ledger/discrepancies?status=open&merchantId=&reportId=&limit=&cursor=` (a
 * template filled in part, a form's untouched fields) was answered 400 limit_invalid, though the
 * empty merchantId= and reportId= were taken as no filter; the postings export refused an empty
 * merchantId= as not an id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

test('the discrepancy list with every parameter given empty but status answers 200 with a page', async () => {
  const res = await fetch(`${gw.url}/admin/api/ledger/discrepancies?status=open&merchantId=&reportId=&limit=&cursor=`, {
    headers: { authorization: `Bearer ${gw.app.admin.token}` },
  });
  const body = await res.json() as any;
  assert.equal(res.status, 200, `the documented query is refused: ${JSON.stringify(body)}`);
  assert.ok(Array.isArray(body.discrepancies));
});

test('the postings export with merchantId given empty exports every merchant\'s, as without it', async () => {
  const headers = { authorization: `Bearer ${gw.app.admin.token}` };
  const res = await fetch(`${gw.url}/admin/api/ledger/postings?from=2026-01-01&to=2026-02-01&merchantId=&format=`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  const without = await fetch(`${gw.url}/admin/api/ledger/postings?from=2026-01-01&to=2026-02-01`, { headers });
  assert.equal(await res.text(), await without.text());
  const status = await fetch(`${gw.url}/admin/api/ledger/discrepancies?status=`, { headers });
  assert.equal(status.status, 200, 'an empty status is none given');
  const bad = await fetch(`${gw.url}/admin/api/ledger/discrepancies?limit=0`, { headers });
  assert.equal(bad.status, 400, 'a limit given is still checked');
});
