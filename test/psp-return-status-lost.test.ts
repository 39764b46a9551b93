/**
 * PSP-run 3-D Secure at an OPP-family acquirer, which can be asked for a payment's status but sends
 * no notifications. The shopper passed the acquirer's challenge, so it authorized; the gateway's
 * status call on the shopper's return lost its answer. The attempt is unknown and the reconciler
 * asks the acquirer, so the payment succeeds; and a shopper who finished the acquirer's challenge
 * but never came back is asked about when the payment expires, so a charge becomes a late approval
 * and is reversed, never left on the card while the gateway says the payment failed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { challengedPa, passAcquirerChallenge, startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { pspProxy, type PspProxy } from './support/psp-proxy.ts';
import { manualClock } from '../src/runtime/clock.ts';

const clock = manualClock(Date.now());
let fake: OppFake;
let proxy: PspProxy;
let gw: Gateway;
let statusCalls = 0;
before(async () => {
  fake = await startOppFake();
  // The first status call (GET /v1/payments/{id}) reaches the acquirer; its answer is lost.
  proxy = await pspProxy(fake.url, (c) => (c.method === 'GET' && /^\/v1\/payments\//.test(c.url) && ++statusCalls === 1 ? 'lose-answer' : {}));
  gw = await startGateway({ clock });
});
after(async () => { await gw?.close(); await proxy?.close(); await fake?.close(); });

test('an OPP acquirer\'s approval whose status answer was lost on the shopper\'s return is not left charged while the gateway expires the payment', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['acq']);
  const r = await opp(gw, 'POST', '/v1/payments', challengedPa('50.00'));
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  // The shopper passes the acquirer's challenge: the acquirer authorizes and sends them back.
  const { transaction: t, returnUrl: back } = await passAcquirerChallenge(fake);
  await fetch(back, { redirect: 'manual' });
  assert.equal(statusCalls, 1);
  assert.equal(t.payment!.status, 'authorized');
  // The shopper does not reload. Hours pass; every sweep runs.
  for (let i = 0; i < 6; i++) {
    clock.advance(3600_000);
    await gw.app.payments.reconcile().catch(() => 0);
    await gw.app.payments.expireAwaiting();
    await gw.app.payments.reverseLateApprovals().catch(() => 0);
    await gw.app.payments.idle();
  }
  const d = (await gw.app.payments.details(r.body.id))!;
  const op = d.operations[0]!.status;
  const charged = t.payment!.status === 'authorized';
  assert.ok(op === 'succeeded' || !charged,
    `the gateway says ${op} (attempt ${d.attempts[0]!.status}/${d.attempts[0]!.reason}), the acquirer still holds the shopper's authorization (${t.payment!.status}); status calls after the lost one: ${statusCalls - 1}`);
});

test('a shopper who finished the acquirer\'s challenge but never came back: before the expiry the acquirer is asked, and its authorization stands (as the return would have settled it)', async () => {
  const r = await opp(gw, 'POST', '/v1/payments', challengedPa('30.00'));
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  const t = fake.transactions.at(-1)!;
  // The acquirer authorizes; the browser is closed before it comes back to the gateway.
  assert.equal((await fetch(`${fake.url}/3ds/${t.id}`, { redirect: 'manual' })).status, 302);
  assert.equal(t.payment!.status, 'authorized');
  for (let i = 0; i < 4; i++) {
    clock.advance(3600_000);
    await gw.app.payments.expireAwaiting();
    await gw.app.payments.idle();
    await gw.app.payments.reverseLateApprovals().catch(() => 0);
    await gw.app.payments.idle();
  }
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.equal(d.operations[0]!.status, 'succeeded', 'the payment the acquirer authorized is approved, not expired');
  assert.equal(t.payment!.status, 'authorized', 'and the acquirer\'s authorization is not reversed');
  assert.equal((await opp(gw, 'GET', `/v1/payments/${r.body.id}`)).body.result.code, '000.100.110');
});

test('a shopper who left the acquirer\'s challenge unanswered: on expiry the acquirer is asked, still waits, and the payment expires', async () => {
  const r = await opp(gw, 'POST', '/v1/payments', challengedPa('31.00'));
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  const t = fake.transactions.at(-1)!;
  clock.advance(4 * 3600_000);
  await gw.app.payments.expireAwaiting();
  await gw.app.payments.idle();
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.deepEqual([d.operations[0]!.status, d.operations[0]!.reason], ['failed', 'expired']);
  assert.notEqual(t.payment?.status, 'authorized');
});
