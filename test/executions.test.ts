/** The executions dialect over HTTP: tokens, cascade, idempotency, long-poll, back-office actions, errors. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import { postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

describe('access tokens', () => {
  let gw: Gateway;
  const clock = manualClock(Date.now());
  before(async () => { gw = await startGateway({ clock }); });
  after(() => gw.close());

  test('client credentials give a one-hour bearer token; wrong key → 401 OAuth error', async () => {
    const r = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': gw.merchant.apiKey } });
    const body = await r.json() as any;
    assert.equal(r.status, 200);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    const bad = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': 'nope' } });
    assert.equal(bad.status, 401);
    assert.equal((await bad.json() as any).error, 'invalid_client');
  });

  test('expired, tampered and foreign tokens are refused with errors[] request.unauthorized', async () => {
    const token = await tokenOf(gw);
    assert.equal((await call(gw, 'GET', `${wf}?limit=1`, { token })).status, 200);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'f'.repeat(32) })).toString('base64url')}.${s}`;
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32).fill(7));
    for (const t of [tampered, foreign, 'not-a-token']) {
      const r = await call(gw, 'GET', `${wf}?limit=1`, { token: t });
      assert.equal(r.status, 401);
      assert.equal(r.body.errors[0].code, 'request.unauthorized');
      assert.match(r.body.errors[0].id, /^[0-9a-f-]{36}$/);
    }
    assert.equal((await call(gw, 'GET', `${wf}?limit=1`, { token: null })).status, 401);
    clock.advance(3600_000 + 1000);
    const expired = await call(gw, 'GET', `${wf}?limit=1`, { token });
    assert.equal(expired.status, 401);
    assert.match(expired.body.errors[0].detail, /expired/);
  });
});

describe('executions', () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300', SWITCHYARD_LONG_POLL_MS: '1500' } }); token = await tokenOf(gw); });
  after(() => gw.close());

  test('another merchant cannot see or act on an execution (404, as if absent)', async () => {
    const id = await execution(gw, token);
    const other = await gw.app.merchants.create({ name: 'Other' });
    const r = await fetch(`${gw.url}/auth/token/${other.clientId}`, { method: 'POST', headers: { 'x-api-key': other.apiKey } });
    const otherToken = ((await r.json()) as any).access_token;
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token: otherToken })).status, 404);
    assert.equal((await call(gw, 'PATCH', `${wf}/${id}`, { token: otherToken, body: { meta: { x: 1 } } })).status, 404);
  });

  test('PATCH meta racing the authorization\'s outcome: judged by the execution as it stands under its lock, not by a read taken before', async () => {
    const inst = await instrument(gw, token, '4200000000000042');
    const id = await execution(gw, token);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '10.00') })).status, 200);
    const pending = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(pending.status, 'authorizePending');
    // The shopper completes the challenge just after the PATCH read the payment, before its unit of work.
    const details = gw.app.payments.details;
    gw.app.payments.details = async (paymentId) => {
      const stale = await details(paymentId);
      gw.app.payments.details = details;
      const done = await fetch(`${pending.requiredAction.href}/result`, { method: 'POST', body: new URLSearchParams({ outcome: 'completed' }), redirect: 'manual' });
      assert.equal(done.status, 303);
      await gw.app.payments.idle();
      return stale;
    };
    let r: Awaited<ReturnType<typeof call>>;
    try {
      r = await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { late: true } } });
    } finally {
      gw.app.payments.details = details;
    }
    const after = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(after.status, 'authorized');
    assert.equal(r.status, 422, `meta changed after the authorization completed: ${JSON.stringify(after.meta)}`);
    assert.equal(after.meta?.late, undefined);
  });

  test('PATCH meta until authorize completes, refused afterwards; capture partial then final; refunds; cancel', async () => {
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    const patched = await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { tags: { channel: 'web' } } } });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.meta.tags, { channel: 'web' });
    const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') });
    assert.equal(ack.status, 200);
    assert.equal(ack.body.name, 'authorize');
    assert.ok(ack.body.actionId && ack.body.links.execution && ack.body.links.consumerWait);
    const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
    assert.equal(e.status, 'authorized');
    const locked = await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { order: { reference: 'changed' } } } });
    assert.equal(locked.status, 422);
    assert.equal(locked.body.errors[0].code, 'workflow.action.not-allowed');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
    const over = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '80.00', currency: 'EUR' } } });
    assert.equal(over.status, 422);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: true } })).status, 202);
    let now = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(now.status, 'captured');
    assert.deepEqual(now.capturedAmount, { value: '50.00', currency: 'EUR' });
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: {} })).status, 422, 'no capture after a final one');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '10.00', currency: 'EUR' } } })).status, 202);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '5.00', currency: 'EUR' } } })).status, 202);
    now = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(now.status, 'partiallyRefunded');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '40.00', currency: 'EUR' } } })).status, 422);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: { reason: 'NoReason' } })).status, 202);
    now = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(now.status, 'cancelled');
    assert.deepEqual(now.refundedAmount, { value: '50.00', currency: 'EUR' });
    const times = now.statusHistory.map((h: { time: string }) => Date.parse(h.time));
    for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], 'history times strictly increase');
    const types = (await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', id).execute()).map((r) => r.type);
    // authorize, two captures, two refunds, cancel
    assert.equal(types.filter((t) => t === 'execution.executionActionCompleted').length, 6);
  });

  test('cancel after a partial capture refunds the capture and voids the rest in one action', async () => {
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') });
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');
    // The refund is recorded before the void is decided: the void must not wait for it.
    const cancel = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: { reason: 'NoReason' } });
    assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
    const now = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(now.status, 'cancelled');
    assert.deepEqual(now.refundedAmount, { value: '30.00', currency: 'EUR' });
  });

  test('a cancel whose refund the PSP reports failed after all leaves the execution refundFailed, not cancelled, and it may be refunded again', async () => {
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '129.90', currency: 'EUR' } } })).status, 202);
    assert.equal((await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} })).status, 202);
    const cancelled = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(cancelled.status, 'cancelled');
    const paymentId = cancelled.paymentComposition[0].paymentId;
    const d = (await gw.app.payments.details(paymentId))!;
    const refund = d.operations.find((o) => o.kind === 'refund')!;
    const attempt = d.attempts.find((a) => a.operationId === refund.id)!;
    const updates = async () => (await gw.app.storage.db.selectFrom('outbox').select('type').where('subject_id', '=', id).execute())
      .filter((r) => r.type === 'execution.executionActionUpdated').length;
    const updatesBefore = await updates();
    // The card scheme rejected the refund (Adyen's REFUND_FAILED, Stripe's refund.failed).
    assert.equal(await gw.app.payments.settleFromPsp(attempt.accountId, attempt.id,
      { kind: 'declined', reason: 'provider_error', acquirerCode: 'REFUND_FAILED', message: undefined, pspReference: undefined, details: {} }, { reverses: true }), true);
    const after = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(after.status, 'refundFailed', 'the shopper was not refunded');
    assert.equal(after.statusHistory.at(-1).code, 'cancelFailed');
    assert.ok(!gw.logs.some((l) => l.includes('outside its state machine')));
    assert.equal(await updates(), updatesBefore + 1, 'the merchant is told');
    const again = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '129.90', currency: 'EUR' } } });
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'refunded');
  });

  test('cancel before capture voids; list filters and paginates with a cursor', async () => {
    const inst = await instrument(gw, token, '4242424242424242', 'holder-list');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await execution(gw, token, 'holder-list', `list-${i}`));
    await call(gw, 'POST', `${wf}/${ids[0]}/authorize`, { token, body: authorizeBody(inst) });
    assert.equal((await poll(gw, token, ids[0]!, ['created', 'authorizeRequested'])).status, 'authorized');
    assert.equal((await call(gw, 'POST', `${wf}/${ids[0]}/cancel`, { token, body: {} })).status, 202);
    assert.equal((await call(gw, 'GET', `${wf}/${ids[0]}`, { token })).body.status, 'cancelled');
    const page1 = await call(gw, 'GET', `${wf}?filter[holderReference]=holder-list&limit=2`, { token });
    assert.equal(page1.body.results.length, 2);
    const page2 = await call(gw, 'GET', `${wf}?filter[holderReference]=holder-list&limit=2&cursor=${page1.body.nextCursor}`, { token });
    assert.equal(page2.body.results.length, 1);
    assert.equal(page2.body.nextCursor, null);
    const seen = [...page1.body.results, ...page2.body.results].map((e: { id: string }) => e.id).sort();
    assert.deepEqual(seen, [...ids].sort());
    const cancelled = await call(gw, 'GET', `${wf}?filter[lastStatus]=cancelled&filter[merchantReference]=list-0`, { token });
    assert.deepEqual(cancelled.body.results.map((e: { id: string }) => e.id), [ids[0]]);
  });

  test('bad input: the field is named, nothing changes', async () => {
    const id = await execution(gw, token);
    const inst = await instrument(gw, token);
    const cases: [unknown, string, RegExp][] = [
      [{ ...authorizeBody(inst), amount: { value: '12.5', currency: 'EUR' } }, 'request.param.invalid', /amount.value/],
      [{ ...authorizeBody(inst), returnInfo: { success: 'http://shop.example/x' } }, 'request.param.invalid', /returnInfo.success/],
      [{ ...authorizeBody(inst), paymentComposition: undefined }, 'request.param.missing', /paymentComposition/],
      [authorizeBody(randomUUID()), 'request.param.invalid', /paymentInstrumentId/],
    ];
    for (const [body, code, detail] of cases) {
      const r = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.errors[0].code, code);
      assert.match(r.body.errors[0].detail, detail);
    }
    const raw = await fetch(`${gw.url}${wf}/${id}/authorize`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'x-idempotency-key': randomUUID(), 'content-type': 'application/json' }, body: '{"amount":' });
    assert.equal(raw.status, 400);
    assert.equal(((await raw.json()) as any).errors[0].code, 'request.malformed');
    const card = await call(gw, 'POST', '/payment/instruments', { token, body: { holderReference: 'h', data: { cardNumber: '4111111111111112', expiryMonth: '03', expiryYear: '30' } } });
    assert.equal(card.status, 400);
    assert.doesNotMatch(JSON.stringify(card.body), /4111111111111112/);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'created');
  });

  test('instruments: create shows no number, get, delete; a deleted instrument cannot authorize', async () => {
    const id = await instrument(gw, token, '5555555555554444', 'holder-i');
    const got = await call(gw, 'GET', `/payment/instruments/${id}`, { token });
    assert.equal(got.body.data.network, 'mastercard');
    assert.equal(got.body.data.suffix, '4444');
    assert.doesNotMatch(JSON.stringify(got.body), /5555555555554444/);
    assert.equal((await call(gw, 'DELETE', `/payment/instruments/${id}`, { token })).status, 200);
    const ex = await execution(gw, token, 'holder-i');
    assert.equal((await call(gw, 'POST', `${wf}/${ex}/authorize`, { token, body: authorizeBody(id) })).status, 400);
  });
});

describe('idempotency', () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
  after(() => gw.close());
  const body = () => ({ merchantReference: 'idem-1', holderReference: 'h1', meta: {} });

  test('a replay returns the stored response; another body under the key → 409', async () => {
    const key = randomUUID();
    const first = await call(gw, 'POST', wf, { token, key, body: body() });
    const again = await call(gw, 'POST', wf, { token, key, body: body() });
    assert.equal(again.status, first.status);
    assert.deepEqual(again.body, first.body);
    const other = await call(gw, 'POST', wf, { token, key, body: { ...body(), merchantReference: 'idem-2' } });
    assert.equal(other.status, 409);
    assert.equal(other.body.errors[0].code, 'request.conflict');
    const rows = await gw.app.storage.db.selectFrom('executions').select('id').where('merchant_reference', '=', 'idem-1').execute();
    assert.equal(rows.length, 1);
  });

  test('ten concurrent requests with one key make one effect', async () => {
    const inst = await instrument(gw, token, '4111111111111111', 'h1');
    const id = await execution(gw, token, 'h1');
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(gw, 'POST', `${wf}/${id}/authorize`, { token, key, body: authorizeBody(inst) })));
    const ok = answers.filter((a) => a.status === 200);
    assert.ok(ok.length >= 1);
    assert.ok(answers.every((a) => a.status === 200 || a.status === 409), answers.map((a) => a.status).join());
    assert.ok(ok.every((a) => a.body.actionId === ok[0]!.body.actionId), 'replays carry the one action');
    await gw.app.executions.idle();
    const e = await call(gw, 'GET', `${wf}/${id}`, { token });
    assert.equal(e.body.statusHistory.filter((h: { code: string }) => h.code === 'authorizeRequested').length, 1);
    assert.equal(e.body.paymentComposition[0].attempts.length, 1);
  });

  test('an authorization that is refused before it is recorded leaves the instrument\'s security code held for the next', async () => {
    const inst = await instrument(gw, token, '4111111111111111', 'h1');
    const id = await execution(gw, token, 'h1');
    const instrumentView = async () => (await call(gw, 'GET', `/payment/instruments/${inst}`, { token })).body;
    assert.equal((await instrumentView()).securityCodeHeld, true);
    // The engine refuses the payment before its intent commits (as when another request authorized the execution first).
    const payments = gw.app.payments as { pay: typeof gw.app.payments.pay };
    const pay = payments.pay;
    payments.pay = async () => ({ ok: false, error: 'not_allowed' });
    try {
      assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 422);
    } finally {
      payments.pay = pay;
    }
    assert.equal((await instrumentView()).securityCodeHeld, true, 'not spent by a refused request');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
    assert.equal((await instrumentView()).securityCodeHeld, false, 'spent by the authorization that was recorded');
  });

  test('missing and malformed keys → 400 before any effect', async () => {
    const missing = await call(gw, 'POST', wf, { token, key: null, body: body() });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.errors[0].code, 'request.header.missing');
    const malformed = await call(gw, 'POST', wf, { token, key: 'order-123_attempt-1', body: body() });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.errors[0].code, 'request.header.invalid');
  });
});

describe('cascade', () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } }); token = await tokenOf(gw); });
  after(() => gw.close());

  async function run(card: string, holder: string) {
    const inst = await instrument(gw, token, card, holder);
    const id = await execution(gw, token, holder);
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    return poll(gw, token, id, ['created', 'authorizeRequested']);
  }

  test('a soft decline at the first PSP is approved by the second; a hard decline stops', async () => {
    await configureCascade(gw, {
      'psp-a': { declines: [{ cardSuffixes: ['1111'], category: 'soft' }, { cardSuffixes: ['4242'], category: 'hard' }] },
      'psp-b': {},
    }, ['psp-a', 'psp-b']);
    const soft = await run('4111111111111111', 'c-soft');
    assert.equal(soft.status, 'authorized');
    assert.deepEqual(soft.paymentComposition[0].attempts.map((a: any) => [a.pspAccount, a.status]), [['psp-a', 'failed'], ['psp-b', 'succeeded']]);
    const hard = await run('4242424242424242', 'c-hard');
    assert.equal(hard.status, 'authorizeFailed');
    assert.deepEqual(hard.paymentComposition[0].attempts.map((a: any) => a.pspAccount), ['psp-a']);
    assert.equal(hard.statusHistory.at(-1).errors[0].reason.result, 'BlockedInstrument');
  });

  test('a PSP timeout leaves the attempt unknown and the cascade does not move on', async () => {
    await configureCascade(gw, { 'psp-slow': { timeouts: [{ cardSuffixes: ['0000'] }] }, 'psp-b': {} }, ['psp-slow', 'psp-b']);
    const e = await run('4200000000000000', 'c-timeout');
    assert.equal(e.status, 'unknown');
    assert.deepEqual(e.paymentComposition[0].attempts.map((a: any) => [a.pspAccount, a.status]), [['psp-slow', 'unknown']]);
    // Still unknown a while later: nothing was sent to psp-b meanwhile.
    await new Promise((r) => setTimeout(r, 400));
    const again = (await call(gw, 'GET', `${wf}/${e.id}`, { token })).body;
    assert.equal(again.paymentComposition[0].attempts.length, 1);
  });

  test('the 3-D Secure challenge is shown once across two PSPs; the second gets the authentication result', async () => {
    await configureCascade(gw, { 'psp-a': { declines: [{ cardSuffixes: ['0042'], category: 'soft' }] }, 'psp-b': {} }, ['psp-a', 'psp-b']);
    const e = await run('4200000000000042', 'c-3ds');
    assert.equal(e.status, 'authorizePending');
    assert.equal(e.actionRequired, '3ds');
    assert.equal(e.links.redirect, e.requiredAction.href);
    assert.equal(e.links['3ds'], e.requiredAction.href);
    const page = new URL(new URL(e.requiredAction.href).pathname, gw.url).href;
    const done = await fetch(`${page}/result`, { method: 'POST', body: new URLSearchParams({ outcome: 'completed' }), redirect: 'manual' });
    assert.equal(done.headers.get('location'), 'https://shop.example/return');
    const after = (await call(gw, 'GET', `${wf}/${e.id}`, { token })).body;
    assert.equal(after.status, 'authorized');
    const attempts = after.paymentComposition[0].attempts;
    assert.deepEqual(attempts.map((a: any) => [a.pspAccount, a.status, a.authenticated]), [['psp-a', 'failed', true], ['psp-b', 'succeeded', true]]);
    for (const a of attempts) assert.equal(gw.app.simulator.received.get(a.id)?.authenticated, true);
    const challenges = await gw.app.storage.db.selectFrom('challenges').select('id').where('subject_id', '=', after.paymentComposition[0].paymentId).execute();
    assert.equal(challenges.length, 1);
    // The page is single-use: a second answer (another tab) changes nothing and follows the first one's way back.
    const replay = await fetch(`${page}/result`, { method: 'POST', body: new URLSearchParams({ outcome: 'failed' }), redirect: 'manual' });
    assert.equal(replay.headers.get('location'), 'https://shop.example/return');
    assert.equal((await call(gw, 'GET', `${wf}/${e.id}`, { token })).body.status, 'authorized');
    assert.equal((await call(gw, 'GET', `${wf}/${e.id}`, { token })).body.paymentComposition[0].attempts.length, 2);
  });
});

describe('long-poll', () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '800' } }); token = await tokenOf(gw); });
  after(() => gw.close());

  test('returns at once when the status is not in the list (JSON array or a bare code)', async () => {
    const id = await execution(gw, token);
    const t0 = performance.now();
    assert.equal((await poll(gw, token, id, ['authorizeRequested'])).status, 'created');
    const bare = await call(gw, 'GET', `${wf}/${id}?waitWhile[status]=authorizePending`, { token });
    assert.equal(bare.body.status, 'created');
    assert.ok(performance.now() - t0 < 700);
  });

  test('honours the time limit and returns the unchanged execution', async () => {
    const id = await execution(gw, token);
    const t0 = performance.now();
    const e = await poll(gw, token, id, ['created']);
    const took = performance.now() - t0;
    assert.equal(e.status, 'created');
    assert.ok(took >= 780 && took < 3000, `held ${took} ms`);
    assert.equal(gw.app.waiters.size, 0);
  });

  // The 100 ms target is measured by `npm run bench:longpoll`; here a generous bound (the hold
  // is 25 s) proves the answer came from the wake-up, not from the time limit, even on a loaded machine.
  test('is woken by the change itself, long before the time limit', async () => {
    // Its own gateway with a 20 s hold, so an answer within 2 s can only come from the wake-up.
    const gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '20000' } });
    const token = await tokenOf(gw);
    try {
    const inst = await instrument(gw, token);
    const id = await execution(gw, token);
    const waiting = poll(gw, token, id, ['created']);
    while (gw.app.waiters.size === 0) await new Promise((r) => setTimeout(r, 5));
    let changedAt = 0;
    const original = gw.app.waiters.wake.bind(gw.app.waiters);
    gw.app.waiters.wake = (x: string) => { if (x === id && !changedAt) changedAt = performance.now(); original(x); };
    await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
    const e = await waiting;
    const gap = performance.now() - changedAt;
    gw.app.waiters.wake = original;
    assert.notEqual(e.status, 'created');
    assert.ok(gap < 2000, `answered ${gap.toFixed(1)} ms after the commit`);
    } finally {
      await gw.close();
    }
  });
});

describe('long-poll: a client that goes away', () => {
  test('ends its wait at once (nothing held until the time limit), while another client on the same execution waits on', async () => {
    const gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '20000' } });
    const token = await tokenOf(gw);
    try {
      const id = await execution(gw, token);
      const url = `${gw.url}${wf}/${id}?waitWhile[status]=created`;
      const leaving = new AbortController();
      const left = fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: leaving.signal }).catch((err: Error) => err.name);
      const staying = poll(gw, token, id, ['created']);
      while (gw.app.waiters.size < 2) await new Promise((r) => setTimeout(r, 5));
      leaving.abort();
      assert.equal(await left, 'AbortError');
      const t0 = performance.now();
      while (gw.app.waiters.size > 1) {
        assert.ok(performance.now() - t0 < 2000, 'the departed client is still waited for');
        await new Promise((r) => setTimeout(r, 5));
      }
      // The one still there is answered by the change, not by the time limit.
      await call(gw, 'PATCH', `${wf}/${id}`, { token, body: { meta: { touched: true } } });
      assert.equal(gw.app.waiters.size, 1, 'a change that leaves the status alone does not end the wait');
      const inst = await instrument(gw, token);
      await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
      assert.notEqual((await staying).status, 'created');
      assert.equal(gw.app.waiters.size, 0);
    } finally {
      await gw.close();
    }
  });
});

describe('long-poll across nodes (PostgreSQL LISTEN/NOTIFY)', async () => {
  const available = await postgresAvailable();
  test('a change committed on one node wakes a long-poll held by another', { skip: !available && 'PostgreSQL unreachable' }, async () => {
    const a = await startGateway({ store: 'postgres', env: { SWITCHYARD_LONG_POLL_MS: '5000' } });
    // Node B: a second gateway process-equivalent over the same schema and master key.
    const schema = (a.app.config.storage as { schema: string }).schema;
    const { createApp } = await import('../src/app.ts');
    const b = await createApp({ ...a.app.config, storage: { kind: 'postgres', url: (a.app.config.storage as { url: string }).url, schema }, dataDir: a.dataDir }, { logger: a.app.logger });
    try {
      await a.app.changeListener!.ready;
      await b.changeListener!.ready;
      const bUrl = await b.server.listen({ port: 0, host: '127.0.0.1' });
      const token = await tokenOf(a);
      const id = await execution(a, token);
      const t0 = performance.now();
      const waiting = call({ ...a, url: bUrl } as Gateway, 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent('["created"]')}`, { token });
      while (b.waiters.size === 0) await new Promise((r) => setTimeout(r, 5));
      const r = await call(a, 'PATCH', `${wf}/${id}`, { token, body: { meta: { touched: true } } });
      assert.equal(r.status, 200);
      const inst = await instrument(a, token);
      await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
      const e = await waiting;
      assert.notEqual(e.body.status, 'created');
      assert.ok(performance.now() - t0 < 4000, 'woken before the time limit');
    } finally {
      await b.close();
      await a.close();
    }
  });
});

/**
 * A gateway whose acquirer notes of each call whether it carried a security code, with a saved
 * instrument (its code held) and an execution to authorize with it; `payments` lets a test wrap `pay`.
 */
async function cvvWitness() {
  const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
  const sent: { operation: string; cvv: boolean }[] = [];
  const processor: Connector = {
    name: 'cvv-witness', operations: sim.operations,
    execute(req: ConnectorRequest) { sent.push({ operation: req.operation, cvv: req.card?.cvv !== undefined }); return sim.execute(req); },
    lookup: (id) => sim.lookup(id),
  };
  const gw = await startGateway({ processor });
  const token = await tokenOf(gw);
  const inst = await instrument(gw, token, '4111111111111111', 'h1');
  const id = await execution(gw, token, 'h1');
  const payments = gw.app.payments as { pay: typeof gw.app.payments.pay };
  const authorize = () => call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) });
  return { gw, sent, payments, pay: payments.pay, authorize };
}

test('two authorize requests with different keys on one execution: the one that records the authorization is the one that sends the security code', async () => {
  const { gw, sent, payments, pay, authorize } = await cvvWitness();
  try {
    // The first request reaches the engine only once the second has authorized: the second records first.
    let secondDone!: () => void;
    const second = new Promise<void>((resolve) => { secondDone = resolve; });
    let calls = 0;
    payments.pay = async (input) => {
      if (++calls === 1) await second;
      try { return await pay(input); } finally { if (calls === 2) secondDone(); }
    };
    const first = authorize();
    while (calls < 1) await new Promise((r) => setTimeout(r, 5));
    const won = await authorize();
    const lost = await first;
    payments.pay = pay;
    assert.equal(won.status, 200, JSON.stringify(won.body));
    assert.equal(lost.status, 422, JSON.stringify(lost.body));
    await gw.app.executions.idle();
    assert.deepEqual(sent, [{ operation: 'authorize', cvv: true }], 'the authorization that was made carried the code');
  } finally { await gw.close(); }
});

test('a security code holder that fails once the authorization is recorded does not stop it: it goes to the PSP without the code', async () => {
  const { gw, sent, payments, pay, authorize } = await cvvWitness();
  try {
    // The shared holder's read fails (a PostgreSQL blip, a code sealed under a key no longer held).
    payments.pay = (input) => pay({ ...input, storedCard: { ...input.storedCard!, takeCvv: async () => { throw new Error('connection terminated'); } } });
    const r = await authorize();
    payments.pay = pay;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await gw.app.executions.idle();
    assert.deepEqual(sent, [{ operation: 'authorize', cvv: false }]);
    assert.ok(gw.logs.some((l) => l.includes('the held security code could not be taken')));
  } finally { await gw.close(); }
});
