/**
 * The overview's "Unknown outcomes" card counts operations whose PSP answer was lost, and its link
 * lists their payments: a capture (or refund) whose answer is lost leaves its payment `authorized`
 * (a payment is `unknown` only when its opening operation is), so the list filters by the
 * operations' outcome (`outcome=unknown`), not by the payment's status. The JSON search takes it too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { signIn } from './support/dashboard.ts';
import { runCli } from './support/process.ts';
import { faultPsp, type Fault } from './support/fault-psp.ts';

const password = 'a long test password';
let gw: Gateway;
const faults: Record<string, Fault[]> = { capture: ['lost'] };
const psp = faultPsp({ next: (req) => faults[req.operation]?.shift() ?? 'ok', slowMs: 600 });
before(async () => {
  gw = await startGateway({ processor: psp.connector, env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
});
after(async () => { await gw?.close(); });

test('the overview\'s "Unknown outcomes" link lists the payment whose capture answer was lost', async () => {
  const p = await pay(gw, { paymentType: 'PA', amount: '50.00' });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const cap = await opp(gw, 'POST', `/v1/payments/${p.body.id}`, { paymentType: 'CP', amount: '50.00', currency: 'EUR' });
  assert.match(cap.body.result.code, /^900\.100\.300/, JSON.stringify(cap.body));
  const s = await signIn(gw.url, 'admin@example.com', password);
  const get = async (path: string) => (await fetch(`${gw.url}${path}`, { headers: { cookie: s.cookie } })).text();
  const overview = await get('/dashboard');
  const card = /Unknown outcomes<\/div><div class="figure">(\d+)<\/div>/.exec(overview);
  assert.equal(card?.[1], '1', 'the overview counts the lost capture');
  const href = /<a href="([^"]*)">payments with unknown outcomes<\/a>/.exec(overview)![1]!.replaceAll('&amp;', '&');
  const list = await get(href);
  assert.ok(list.includes(`/dashboard/payments/${p.body.id}`),
    `the card says 1 operation waits for the reconciler, its "list" link (${href}) shows: ${/No payment matches/.test(list) ? 'No payment matches.' : 'other payments'}`);
});

test('the admin API\'s payment search takes outcome=unknown, alone and with a search text', async () => {
  const r = await fetch(`${gw.url}/admin/api/payments?outcome=unknown`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
  assert.equal(r.status, 200);
  const found = (await r.json() as { payments: { id: string; status: string }[] }).payments;
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.equal(found[0]!.status, 'authorized');
  const withText = await fetch(`${gw.url}/admin/api/payments?outcome=unknown&q=${found[0]!.id}`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
  assert.equal((await withText.json() as { payments: unknown[] }).payments.length, 1);
  const bad = await fetch(`${gw.url}/admin/api/payments?outcome=lost`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
  assert.equal(bad.status, 400);
});

test('the CLI lists the same payments with --outcome unknown', () => {
  const r = runCli(gw.dataDir, 'payments', 'list', '--outcome', 'unknown', '--json');
  assert.equal(r.status, 0, r.stderr);
  const listed = JSON.parse(r.stdout) as { payments: { status: string }[] };
  assert.equal(listed.payments.length, 1, r.stdout);
  assert.equal(listed.payments[0]!.status, 'authorized');
});
