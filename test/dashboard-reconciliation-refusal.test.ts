/**
 * The Reconciliation page's refused resolve says why at the box at fault, as every dashboard form
 * does: the box is marked invalid and described by the sentence, and keeps what was typed. A
 * discrepancy on a later page (more than 50 open) is answered on a page that holds it: the answer
 * listed the first page only, and the row at fault, with what was typed, was not on it. A post
 * without the form's token changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { type Gateway } from './support/harness.ts';
import { gatewayWithSettlementAccount } from './support/settlement.ts';
import { postForm, signIn, type DashboardSession } from './support/dashboard.ts';

const password = 'a long test password';
const clock = manualClock(Date.UTC(2026, 2, 10) + 60_000);
let gw: Gateway;
let ids: string[] = [];
let session: DashboardSession;

before(async () => {
  ({ gw } = await gatewayWithSettlementAccount(clock, 'sqlite'));
  assert.ok((await gw.app.dashboard.addUser({ email: 'operator@example.com', role: 'operator', merchantId: gw.merchant.merchantId, password })).ok);
  session = await signIn(gw.url, 'operator@example.com', password);
  const lines = Array.from({ length: 55 }, (_, i) => ({ reference: `unknown-${String(i).padStart(2, '0')}`, type: 'capture', gross: '1.00', fee: '0.00', net: '1.00', currency: 'EUR', valueDate: '2026-03-11' }));
  const report = { format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-10', lines, payouts: [{ currency: 'EUR', amount: '55.00', valueDate: '2026-03-11' }] };
  const imported = await fetch(`${gw.url}/admin/api/ledger/reconciliations`, {
    method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ pspAccount: 'acq', merchantId: gw.merchant.merchantId, report }),
  });
  assert.equal(imported.status, 201);
  const listed = await gw.app.settlement.discrepancies({ status: 'open', merchantId: gw.merchant.merchantId });
  ids = listed.map((d) => d.id);
  assert.ok(ids.length > 50);
});
after(async () => { await gw?.close(); });

const resolve = (id: string, note: string, csrf = session.csrf) => postForm(gw.url, session, `/dashboard/reconciliation/${id}/resolve`, { _csrf: csrf, note });
const isOpen = async (id: string) => (await gw.app.settlement.discrepancies({ id }))[0]?.status === 'open';

test('a refused note: the note box is marked invalid and described by the sentence (docs/dashboard.md)', async () => {
  const r = await resolve(ids[0]!, 'done\tby hand');
  assert.equal(r.status, 400);
  const text = await r.text();
  const input = /<input id="note-[0-9a-f]{32}"[^>]*value="done[^"]*"[^>]*>/.exec(text)?.[0] ?? '';
  assert.ok(input !== '', 'the typed note is kept in its box');
  assert.match(input, /aria-invalid="true"/, `the refused note's box is not marked invalid: ${input}`);
  assert.match(input, /aria-describedby="[^"]+"/, `the refused note's box is not described by the refusal: ${input}`);
});

test('a refused resolve of a discrepancy on the second page shows that discrepancy and what was typed', async () => {
  const last = ids.at(-1)!;
  const r = await resolve(last, 'fixed\tby hand');
  assert.equal(r.status, 400);
  const text = await r.text();
  assert.ok(text.includes(`id="d-${last}"`), 'the refused discrepancy (on page 2) is not on the page that answers its refusal; what was typed is lost');
});

test('a resolve posted without the form token changes nothing', async () => {
  const r = await resolve(ids[1]!, 'forged', 'not-the-token');
  assert.ok(r.status === 403 || r.status === 400, `status ${r.status}`);
  assert.equal(await isOpen(ids[1]!), true);
});
