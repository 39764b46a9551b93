/**
 * The OPP-family connector end to end between two gateway processes: gateway A routes its demo
 * merchant's payments (both dialects) to a PSP account whose acquirer is gateway B, a separate
 * `node src/main.ts`, reached over B's own `/v1` server-to-server API. B's simulated acquirer
 * declines by its account's rules and loses answers by its test cards; A's cascade moves on to its
 * own simulated account.
 *
 * Not covered here: a 3-D Secure challenge completed on B's hosted page (A passing B's redirect
 * through to the shopper), which needs the connector's redirect pass-through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { adminHeaders, demoCredentials, startGatewayProcess, type GatewayProcess } from './support/process.ts';
import type { MerchantCredentials } from '../src/merchants/service.ts';

const cards = { approved: '4111111111111111', softDecline: '4242424242424242', lostAnswer: '4000000000003006' };

const dirA = tempDir();
const dirB = tempDir();
let procA: GatewayProcess;
let procB: GatewayProcess;
let a: { url: string; merchant: MerchantCredentials };
let b: { url: string; merchant: MerchantCredentials };
let token: string;

before(async () => {
  // Short PSP timeouts: B gives up on its simulator's lost answer after a second (and its
  // reconciler settles it seconds later); A waits longer than that for B, and reconciles every 3 s.
  const jobs = { SWITCHYARD_JOB_POLL_MS: '200' };
  // One after the other, each kept as soon as it runs, so that `after` stops whichever started.
  procB = await startGatewayProcess({ ...jobs, SWITCHYARD_PSP_TIMEOUT_MS: '1000', SWITCHYARD_DATA_DIR: dirB });
  procA = await startGatewayProcess({ ...jobs, SWITCHYARD_PSP_TIMEOUT_MS: '3000', SWITCHYARD_DATA_DIR: dirA });
  a = { url: procA.url, merchant: demoCredentials(dirA, procA.output()) };
  b = { url: procB.url, merchant: demoCredentials(dirB, procB.output()) };
  // B's acquirer (a simulated account of B's merchant) soft-declines cards ending 4242, which A's own simulated account approves.
  const adminB = adminHeaders(dirB);
  const simB = await fetch(`${b.url}/admin/merchants/${b.merchant.merchantId}/psp-accounts/sim-b`, {
    method: 'PUT', headers: adminB, body: JSON.stringify({ connector: 'simulator', settings: { declines: [{ cardSuffixes: ['4242'], category: 'soft' }] } }),
  });
  assert.equal(simB.status, 200, await simB.text());
  const wfB = await fetch(`${b.url}/admin/merchants/${b.merchant.merchantId}/workflows/payment-acceptance`, { method: 'PATCH', headers: adminB, body: JSON.stringify({ accounts: ['sim-b'] }) });
  assert.equal(wfB.status, 200, await wfB.text());
  const admin = adminHeaders(dirA);
  const accounts = {
    'acq-b': { connector: 'opp', settings: { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId }, timeoutMs: 2500 },
    'sim-a': { connector: 'simulator', settings: {} },
  };
  for (const [name, body] of Object.entries(accounts)) {
    const r = await fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/${name}`, { method: 'PUT', headers: admin, body: JSON.stringify(body) });
    assert.equal(r.status, 200, await r.text());
  }
  const wfr = await fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/workflows/payment-acceptance`, {
    method: 'PATCH', headers: admin, body: JSON.stringify({ accounts: ['acq-b', 'sim-a'], moveOn: ['soft', 'error'] }),
  });
  assert.equal(wfr.status, 200, await wfr.text());
  token = await tokenOf(a);
});

after(async () => {
  await Promise.all([procA?.stop(), procB?.stop()]);
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

/** What B holds for one of A's attempts, found by the attempt id A sent as merchantTransactionId. */
const atB = async (attemptId: string) => (await opp(b, 'GET', `/v1/query?merchantTransactionId=${attemptId}`)).body;
const payAtA = (params: Record<string, string>) => opp(a, 'POST', '/v1/payments', { ...testCard, amount: '92.00', currency: 'EUR', paymentType: 'DB', ...params });

async function authorize(card: string, holder: string) {
  const inst = await instrument(a, token, card, holder);
  const id = await execution(a, token, holder);
  const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '50.00') });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  return poll(a, token, id, ['created', 'authorizeRequested']);
}

describe('gateway A routes to gateway B (two processes)', () => {
  test('a /v1 payment on A is a payment at B: authorize then capture, under A\'s attempt ids', async () => {
    const pa = await payAtA({ paymentType: 'PA', 'card.number': cards.approved });
    assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));
    // The first attempt carries the payment's id: B knows it by that merchantTransactionId.
    const held = await atB(pa.body.id);
    assert.deepEqual(held.payments.map((p: any) => [p.paymentType, p.amount, p.currency, p.card.last4Digits]), [['PA', '92.00', 'EUR', '1111']]);
    const cp = await opp(a, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
    assert.equal(cp.body.result.code, '000.100.110', JSON.stringify(cp.body));
    const captured = await atB(cp.body.id);
    assert.deepEqual(captured.payments.map((p: any) => [p.paymentType, p.amount, p.referencedId]), [['CP', '92.00', held.payments[0].id]]);
  });

  test('an executions authorization on A is authorized at B', async () => {
    const e = await authorize(cards.approved, 'two-gw-ok');
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    const attempts = e.paymentComposition[0].attempts;
    assert.deepEqual(attempts.map((x: any) => [x.pspAccount, x.status]), [['acq-b', 'succeeded']]);
    const held = await atB(attempts[0].id);
    assert.deepEqual(held.payments.map((p: any) => [p.paymentType, p.amount, p.result.code]), [['PA', '50.00', '000.100.110']]);
  });

  test('a decline at B cascades to A\'s simulated account, in both dialects', async () => {
    const e = await authorize(cards.softDecline, 'two-gw-soft');
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    const attempts = e.paymentComposition[0].attempts;
    assert.deepEqual(attempts.map((x: any) => [x.pspAccount, x.status, x.resultCode]), [['acq-b', 'failed', '800.100.152'], ['sim-a', 'succeeded', '000.100.110']]);
    assert.equal((await atB(attempts[0].id)).payments[0].result.code, '800.100.152');
    assert.equal(await atB(attempts[1].id).then((r) => r.result.code), '700.400.580', 'B never saw the simulated attempt');

    const v1 = await payAtA({ 'card.number': cards.softDecline });
    assert.equal(v1.body.result.code, '000.100.110', JSON.stringify(v1.body));
    assert.equal((await atB(v1.body.id)).payments[0].result.code, '800.100.152', 'declined at B first');
  });

  test('an answer lost between A and B leaves A\'s attempt unknown; A\'s reconciler settles it through B\'s query API', async () => {
    const e = await authorize(cards.lostAnswer, 'two-gw-lost');
    assert.equal(e.status, 'unknown', JSON.stringify(e.statusHistory?.at(-1)));
    const [attempt] = e.paymentComposition[0].attempts;
    assert.deepEqual([attempt.pspAccount, attempt.status], ['acq-b', 'unknown']);
    // B lost its own simulator's answer too; its reconciler settles it, then A's asks B and learns it.
    let settled: any;
    for (let i = 0; i < 120; i++) {
      settled = (await call(a, 'GET', `${wf}/${e.id}`, { token })).body;
      if (settled.status !== 'unknown') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(settled.status, 'authorized', JSON.stringify(settled.statusHistory?.at(-1)));
    assert.deepEqual(settled.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.status]), [['acq-b', 'succeeded']], 'no second charge elsewhere');
    const held = await atB(attempt.id);
    assert.equal(held.payments.length, 1, 'B charged once');
    assert.equal(held.payments[0].result.code, '000.100.110');
  });

  test('neither gateway logged the card numbers; A never logged B\'s token', () => {
    for (const out of [procA.output(), procB.output()]) for (const n of Object.values(cards)) assert.ok(!out.includes(n), n);
    assert.ok(!procA.output().includes(b.merchant.accessToken));
  });
});
