/** Crash recovery of the executions dialect with a real process: SIGKILL while a PSP call is in flight. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startGateway, tempDir, type Gateway } from './support/harness.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

test('a gateway killed while an authorization is at the PSP finishes it after restart, with one charge', async () => {
  const dataDir = tempDir();
  // PSP timeout 1 s: the engine's reconciler and executions.resume() look again after 2 s, every second.
  const env = { SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_PSP_TIMEOUT_MS: '1000' };
  let proc: GatewayProcess | undefined;
  try {
    proc = await startGatewayProcess(env);
    const merchantId = /merchantId\s+([0-9a-f]{32})/.exec(proc.output())![1]!;
    let gw = { url: proc.url, merchant: { ...demoCredentials(dataDir), merchantId }, dataDir } as unknown as Gateway;
    // psp-slow answers after 900 ms (within the timeout) — unless the process dies first.
    await configureCascade(gw, { 'psp-slow': { latencyMs: 900 }, 'psp-b': {} }, ['psp-slow', 'psp-b']);
    let token = await tokenOf(gw);
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
    // The attempt is recorded and its PSP call under way: kill -9 now.
    for (let i = 0; i < 100; i++) {
      const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
      if (e.paymentComposition?.[0]?.attempts?.length === 1) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const before = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(before.status, 'authorizeRequested');
    assert.deepEqual(before.paymentComposition[0].attempts.map((a: any) => [a.pspAccount, a.status]), [['psp-slow', 'pending']]);
    await proc.stop('SIGKILL');

    proc = await startGatewayProcess(env);
    gw = { ...gw, url: proc.url } as Gateway;
    token = await tokenOf(gw);
    let e = before;
    const deadline = Date.now() + 30_000;
    while (['authorizeRequested', 'unknown'].includes(e.status) && Date.now() < deadline) e = await poll(gw, token, id, ['authorizeRequested', 'unknown']);
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory));
    // psp-slow never answered (the simulated PSP died with the process): its attempt is settled as not
    // received, the cascade moves on, and exactly one attempt charged the card.
    const attempts = e.paymentComposition[0].attempts;
    assert.deepEqual(attempts.map((a: any) => [a.pspAccount, a.status, a.resultCode]), [['psp-slow', 'failed', '900.100.400'], ['psp-b', 'succeeded', '000.100.110']]);
    assert.equal(attempts[0].id, before.paymentComposition[0].attempts[0].id, 'the in-flight attempt was settled, not replaced');
    assert.deepEqual(e.statusHistory.map((h: any) => h.code), ['created', 'authorizeRequested', 'authorizeSuccessful']);
    // Still one charge a few reconciler rounds later.
    await new Promise((r) => setTimeout(r, 2500));
    const later = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(later.paymentComposition[0].attempts.length, 2);
    assert.equal(later.status, 'authorized');
    await proc.stop('SIGTERM');
  } finally {
    await proc?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

describe('the reconciler in one process (manual clock)', () => {
  const clock = manualClock(Date.now());
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway({ clock }); token = await tokenOf(gw); });
  after(() => gw.close());

  test('leaves an authorization whose PSP call is still in flight alone, however old it looks', async () => {
    await configureCascade(gw, { 'psp-slow': { latencyMs: 1500 } }, ['psp-slow']);
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    for (let i = 0; i < 100 && (await gw.app.executions.view(await gw.app.merchants.byId(gw.merchant.merchantId) as never, 'payment-acceptance', id))?.attempts.length !== 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    clock.advance(10 * 60_000);
    assert.equal(await gw.app.payments.reconcile(), 0);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'authorizeRequested');
    const e = await poll(gw, token, id, ['authorizeRequested']);
    assert.equal(e.status, 'authorized');
    assert.deepEqual(e.statusHistory.map((h: any) => h.code), ['created', 'authorizeRequested', 'authorizeSuccessful'], 'no spurious authorizeUnknown');
  });
});

describe('an action\'s answer is stored with the action', () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
  after(() => gw.close());

  test('a refund\'s answer is committed with the refund, before its PSP call ends: a retry with its key (after a crash, or an error past the commit) replays it instead of refunding again', async () => {
    await configureCascade(gw, { 'psp-slow': { latencyMs: 800 } }, ['psp-slow']);
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '100.00', currency: 'EUR' }, final: true } })).status, 202);
    const key = randomUUID();
    const body = { amount: { value: '10.00', currency: 'EUR' } };
    let answered = false;
    const first = call(gw, 'POST', `${wf}/${id}/refund`, { token, body, key }).then((r) => { answered = true; return r; });
    const stored = async () => (await gw.app.storage.db.selectFrom('idempotency_keys').select(['state', 'response_status', 'response_body']).where('key', '=', key).executeTakeFirst());
    const paymentId = (await gw.app.storage.db.selectFrom('executions').select('payment_id').where('id', '=', id).executeTakeFirstOrThrow()).payment_id!;
    const refunds = () => gw.app.storage.db.selectFrom('transactions').select(['id', 'status']).where('type', '=', 'refund').where('payment_id', '=', paymentId).execute();
    for (let i = 0; i < 500 && (await stored())?.state !== 'done'; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await stored())?.state, 'done', 'the answer is stored');
    assert.deepEqual((await refunds()).map((r) => r.status), ['pending'], 'while the refund is still at the PSP: in the unit of work that recorded it');
    assert.equal(answered, false);
    const retry = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body, key });
    assert.equal(retry.status, 202);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    const original = await first;
    assert.equal(original.status, 202);
    assert.deepEqual(retry.body, original.body, 'the replay is the answer the first request gave');
    assert.deepEqual((await refunds()).map((r) => r.status), ['succeeded'], 'refunded once');
  });
});
