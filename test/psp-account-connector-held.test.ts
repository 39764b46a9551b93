/**
 * A PSP account's connector is the PSP that holds its payments: it is not changed while an
 * authorization there is still open (its answer lost, so no payment records the account yet), and
 * the account is not removed (then put again under another connector) while it holds payments.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

const clock = manualClock(Date.now());
let a: Gateway;
let b: Gateway;
before(async () => {
  b = await startGateway();
  a = await startGateway({ clock, env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } });
});
after(async () => { await a?.close(); await b?.close(); });

const admin = () => adminHeaders(a.dataDir, a.app.config.adminToken);
const accountUrl = (name: string) => `${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/${name}`;

test('an authorization whose answer was lost at the account (not settled yet) keeps the account on its connector', async () => {
  // The simulated PSP takes the authorization of 42.42 but its answer is lost: the gateway holds it unknown.
  await configureCascade(a, { 'acq-x': { connector: 'simulator', settings: { timeouts: [{ amounts: [4242] }] } } }, ['acq-x']);
  const pa = await pay(a, { paymentType: 'PA', amount: '42.42' });
  const id = pa.body.id as string;
  const payment = await a.app.storage.db.selectFrom('payments').select(['psp_account_id', 'status']).where('id', '=', id).executeTakeFirstOrThrow();
  const attempts = await a.app.storage.db.selectFrom('attempts').select(['account_id', 'status']).where('payment_id', '=', id).execute();
  assert.equal(payment.psp_account_id, null, 'not settled yet: no account on the payment');
  assert.equal(attempts.length, 1);

  // The operator points the account at another PSP while that authorization is open at the first.
  const settings = { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId };
  const r = await fetch(accountUrl('acq-x'), { method: 'PUT', headers: admin(), body: JSON.stringify({ connector: 'opp', settings }) });
  assert.equal(r.status, 400, 'refused while the authorization is open at the old PSP');

  // The reconciler asks about the lost answer: it asks the new PSP, which never heard of it.
  clock.advance(60_000);
  await a.app.payments.reconcile();
  await a.app.payments.idle();
  for (let i = 0; i < 5; i++) { clock.advance(a.app.config.asyncTimeoutMs); await a.app.payments.reconcile(); await a.app.payments.idle(); }
  const q = await opp(a, 'GET', `/v1/query/${id}`);
  const simulated = a.app.simulator?.received?.get?.(attempts[0] ? (await a.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', id).executeTakeFirstOrThrow()).id : '');
  assert.match(q.body.result.code, /^000\.(000|100|200)\./,
    `connector change accepted (200) while an authorization was open at the old PSP; the reconciler then asked the new PSP and the payment ended ${q.body.result.code} ${q.body.result.description} though the old PSP took it (${JSON.stringify(simulated ?? 'see simulator')})`);
});

test('an account holding an open authorization is not removed and put again with another connector', async () => {
  const settings = { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId };
  await configureCascade(a, { 'acq-r': { connector: 'opp', settings }, other: { connector: 'simulator', settings: {} } }, ['acq-r']);
  const pa = await pay(a, { paymentType: 'PA', amount: '11.00' });
  assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));
  const atB = () => b.app.storage.db.selectFrom('payments').select(['status']).where('merchant_id', '=', b.merchant.merchantId)
    .orderBy('created_at', 'desc').executeTakeFirstOrThrow();
  const heldAtB = (await atB()).status;
  // The cascade moves to another account; the old one is removed, then put again with the simulator.
  await configureCascade(a, {}, ['other']);
  const { 'content-type': _ct, ...noBody } = admin() as Record<string, string>;
  const del = await fetch(accountUrl('acq-r'), { method: 'DELETE', headers: noBody });
  assert.equal(del.status, 409, 'refused while the account holds the authorization');
  assert.match(((await del.json()) as { error: { message: string } }).error.message, /holds payments/);
  const put = await fetch(accountUrl('acq-r'), { method: 'PUT', headers: admin(), body: JSON.stringify({ connector: 'simulator', settings: {} }) });
  assert.equal(put.status, 400, 'and its connector stays');
  const cp = await opp(a, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '11.00', currency: 'EUR' });
  const rv = await opp(a, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'RV', amount: '11.00', currency: 'EUR' });
  assert.notEqual((await atB()).status, heldAtB,
    `the account holding the authorization was removed (${del.status}); capture answered ${cp.body.result.code} ${cp.body.result.description}, void ${rv.body.result.code}: the acquirer still holds it (${heldAtB})`);
});
