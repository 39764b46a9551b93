/**
 * A PSP account's place at its PSP (an OPP platform's host and entity, an Adyen merchant account)
 * is where its payments are: while it holds payments it is not pointed elsewhere under the same
 * connector, or their captures, voids and lookups would go where nobody knows them. Its
 * credentials and behaviour may still change; an account holding nothing may be moved freely.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';
import { pspProxy, type PspProxy } from './support/psp-proxy.ts';

const clock = manualClock(Date.now());
let a: Gateway;
let b: Gateway;
let c: Gateway;
let proxy: PspProxy;
let loseNext = false;

before(async () => {
  b = await startGateway();
  c = await startGateway();
  // In front of b: the authorization chosen reaches b, which takes it, and its answer is lost on the way back.
  proxy = await pspProxy(b.url, (call) => {
    if (loseNext && call.method === 'POST' && call.url === '/v1/payments') { loseNext = false; return 'lose-answer'; }
    return {};
  });
  a = await startGateway({ clock, env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
});
after(async () => { await a?.close(); await b?.close(); await c?.close(); await proxy?.close(); });

const admin = () => adminHeaders(a.dataDir, a.app.config.adminToken);
const putAccount = (name: string, account: unknown) => fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/${name}`, {
  method: 'PUT', headers: admin(), body: JSON.stringify(account),
});
const atB = () => ({ baseUrl: proxy.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId });
const atC = () => ({ baseUrl: c.url, accessToken: c.merchant.accessToken, entityId: c.merchant.entityId });
const latestAtB = () => b.app.storage.db.selectFrom('payments').select(['status']).where('merchant_id', '=', b.merchant.merchantId)
  .orderBy('created_at', 'desc').executeTakeFirstOrThrow();

test('an account holding an open authorization keeps its PSP: the move is refused and the capture reaches the PSP holding the money', async () => {
  await configureCascade(a, { held: { connector: 'opp', settings: atB() } }, ['held']);
  const pa = await pay(a, { paymentType: 'PA' });
  assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));
  assert.equal((await latestAtB()).status, 'authorized');

  const moved = await putAccount('held', { connector: 'opp', settings: atC() });
  assert.equal(moved.status, 400);
  assert.match(((await moved.json()) as { error: { message: string } }).error.message, /holds payments made at its baseUrl and entityId/);
  const otherEntity = await putAccount('held', { connector: 'opp', settings: { ...atB(), entityId: c.merchant.entityId } });
  assert.equal(otherEntity.status, 400, 'another entity at the same host is another account too');

  // Its credential (shown masked, put back as shown) and its timeout may change.
  const shown = (await (await fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/held`, { headers: admin() })).json()) as { settings: Record<string, unknown> };
  const kept = await putAccount('held', { connector: 'opp', settings: shown.settings, timeoutMs: 250 });
  assert.equal(kept.status, 200, await kept.text());

  const cp = await opp(a, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
  assert.match(cp.body.result.code, /^000\.(000|100)\./, JSON.stringify(cp.body));
  assert.equal((await latestAtB()).status, 'captured');
});

test('an authorization whose answer was lost is asked about where it was made, and the card is not charged again at the next account', async () => {
  await configureCascade(a, { lost: { connector: 'opp', settings: atB() }, backup: { connector: 'simulator', settings: {} } }, ['lost', 'backup']);
  loseNext = true;
  const db = await pay(a);
  assert.equal(db.body.result.code, '900.100.300', JSON.stringify(db.body));
  assert.equal((await latestAtB()).status, 'captured', 'b took the sale');

  // Not settled yet, so no payment names the account: its open attempt holds it.
  const moved = await putAccount('lost', { connector: 'opp', settings: atC() });
  assert.equal(moved.status, 400);

  clock.advance(60_000);
  for (let i = 0; i < 3; i++) { await a.app.payments.reconcile(); await a.app.payments.idle(); clock.advance(60_000); }
  const attempts = await a.app.storage.db.selectFrom('attempts').select(['account_name', 'status']).where('payment_id', '=', db.body.id).orderBy('seq').execute();
  assert.deepEqual(attempts.map((x) => ({ ...x })), [{ account_name: 'lost', status: 'succeeded' }], 'found at b; the backup never charged');
});

test('an account that holds no payment may be pointed at another PSP', async () => {
  const first = await putAccount('spare', { connector: 'opp', settings: atB() });
  assert.equal(first.status, 200);
  const moved = await putAccount('spare', { connector: 'opp', settings: atC() });
  assert.equal(moved.status, 200, await moved.text());
});
