/**
 * The dashboard's reconciliation page: the discrepancies settlement reports left, with what each
 * side said (a wrong net shown as the report's fee and net), resolved with a note by an operator or
 * an admin, read by a viewer, and another merchant's neither listed nor resolvable by a user limited
 * to one merchant. Before, an operator could see and resolve them only through the admin API or the CLI.
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
let wrongNet: string;
let unknown: string;
let saleId: string;
const sessions: Record<string, DashboardSession> = {};

before(async () => {
  ({ gw } = await gatewayWithSettlementAccount(clock, 'sqlite'));
  const other = await gw.app.merchants.create({ name: 'Other Merchant' });
  const users = [['admin', 'admin', undefined], ['operator', 'operator', gw.merchant.merchantId], ['viewer', 'viewer', gw.merchant.merchantId], ['stranger', 'operator', other.merchantId]] as const;
  for (const [name, role, merchantId] of users) {
    assert.ok((await gw.app.dashboard.addUser({ email: `${name}@example.com`, role, merchantId, password })).ok);
    sessions[name] = await signIn(gw.url, `${name}@example.com`, password);
  }
  const sale = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '100.00', currency: 'EUR', paymentType: 'DB' });
  saleId = sale.body.id;
  const report = {
    format: 'switchyard-settlement-report/1', pspAccount: 'acq', merchantId: gw.merchant.merchantId, day: '2026-03-10',
    lines: [
      { reference: saleId, type: 'capture', gross: '100.00', fee: '1.70', net: '100.00', currency: 'EUR', valueDate: '2026-03-11' },
      { reference: 'nobody-knows-me', type: 'capture', gross: '5.00', fee: '0.00', net: '5.00', currency: 'EUR', valueDate: '2026-03-11' },
    ],
    payouts: [{ currency: 'EUR', amount: '105.00', valueDate: '2026-03-11' }],
  };
  const imported = await fetch(`${gw.url}/admin/api/ledger/reconciliations`, {
    method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ pspAccount: 'acq', merchantId: gw.merchant.merchantId, report }),
  });
  const body = await imported.json() as { discrepancies: { id: string; kind: string; reference: string }[] };
  wrongNet = body.discrepancies.find((d) => d.kind === 'amount_mismatch')!.id;
  unknown = body.discrepancies.find((d) => d.reference === 'nobody-knows-me')!.id;
});
after(async () => { await gw?.close(); });

const get = async (who: string, path = '/dashboard/reconciliation') => {
  const r = await fetch(`${gw.url}${path}`, { headers: { cookie: sessions[who]!.cookie } });
  return { status: r.status, text: await r.text() };
};
const resolve = (who: string, id: string, note: string) => postForm(gw.url, sessions[who]!, `/dashboard/reconciliation/${id}/resolve`, { _csrf: sessions[who]!.csrf, note });
const isOpen = async (id: string) => (await gw.app.settlement.discrepancies({ id }))[0]?.status === 'open';

test('the open discrepancies are listed with what each side said; a viewer reads them and has no resolve form', async () => {
  const page = await get('viewer');
  assert.equal(page.status, 200);
  assert.match(page.text, /<a [^>]*aria-current="page"[^>]*>Reconciliation<\/a>|href="\/dashboard\/reconciliation" aria-current="page"/);
  const row = page.text.slice(page.text.indexOf(`id="d-${wrongNet}"`));
  assert.match(row.slice(0, 2000), /amount_mismatch[\s\S]*100\.00 EUR[\s\S]*100\.00 EUR[\s\S]*fee 1\.70 EUR, net 100\.00 EUR/);
  assert.ok(row.includes(`href="/dashboard/payments/${saleId}"`), 'the reference links to its payment');
  assert.ok(page.text.includes('nobody-knows-me'));
  assert.ok(!page.text.includes('/resolve"'), 'a viewer is offered no resolve form');
  const refused = await resolve('viewer', wrongNet, 'looked at it');
  assert.equal(refused.status, 403);
  assert.equal(await isOpen(wrongNet), true);
});

test('a user limited to another merchant sees none of them, and cannot resolve one', async () => {
  const page = await get('stranger');
  assert.equal(page.status, 200);
  assert.ok(!page.text.includes('nobody-knows-me') && !page.text.includes(wrongNet));
  const r = await resolve('stranger', wrongNet, 'not mine');
  assert.equal(r.status, 404);
  assert.equal(await isOpen(wrongNet), true);
});

test('an operator resolves one with a note: told so, listed as resolved with the note, and the merchant is told; once only', async () => {
  const card = await resolve('operator', wrongNet, 'refunded to 4200000000000000 by hand');
  assert.equal(card.status, 400);
  const refusedPage = await card.text();
  assert.ok(!refusedPage.includes('4200000000000000'), 'the card number is not printed back');
  assert.match(refusedPage, /card number/);
  assert.equal(await isOpen(wrongNet), true);
  const empty = await resolve('operator', wrongNet, '   ');
  assert.equal(empty.status, 400);

  const ok = await resolve('operator', wrongNet, 'PSP corrected the net in the next report');
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), `/dashboard/reconciliation?done=${wrongNet}`);
  assert.equal(await isOpen(wrongNet), false);
  const answer = await get('operator', ok.headers.get('location')!);
  assert.match(answer.text, new RegExp(`Discrepancy ${wrongNet} resolved`));
  assert.ok(!answer.text.includes(`id="d-${wrongNet}"`), 'no longer among the open ones');
  assert.ok(answer.text.includes(`id="d-${unknown}"`));
  const resolvedTab = await get('operator', '/dashboard/reconciliation?status=resolved');
  assert.match(resolvedTab.text, /PSP corrected the net in the next report/);
  const again = await resolve('operator', wrongNet, 'again');
  assert.equal(again.status, 409);

  const events = await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', wrongNet).execute();
  assert.ok(events.some((e) => e.type.endsWith('settlementDiscrepancyResolved')), JSON.stringify(events));
  const audit = await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 100 });
  const entries = audit.filter((e) => e.action === 'discrepancy.resolve').map((e) => `${e.email} ${e.outcome}`);
  assert.deepEqual(entries.sort(), ['operator@example.com ok', 'operator@example.com refused', 'operator@example.com refused', 'operator@example.com refused', 'stranger@example.com refused', 'viewer@example.com refused'].sort());
});
