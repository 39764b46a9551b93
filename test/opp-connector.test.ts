/**
 * The OPP-family connector end to end: gateway A routes its merchant's payments to a PSP account
 * whose acquirer is gateway B, reached over B's own `/v1` server-to-server API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { defaultSettings } from '../src/processors/simulator/settings.ts';
import type { Connector } from '../src/processors/connector.ts';
import { opp, startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

const cards = { approved: '4111111111111111', soft: '4242424242424242', hard: '5454545454545454', slow: '4200000000000000' };

// B's own acquirer: declines by card, and answers the slow card only after A's impatient account gave up.
const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
const declining = sim.forAccount('b-acquirer', {
  ...defaultSettings,
  declines: [{ cardSuffixes: [cards.soft.slice(-4)], category: 'soft' }, { cardSuffixes: [cards.hard.slice(-4)], category: 'hard' }],
});
const acquirerOfB: Connector = {
  ...declining,
  async execute(req) {
    if (req.card?.pan.last4 === cards.slow.slice(-4)) await new Promise((r) => setTimeout(r, 1500));
    return declining.execute(req);
  },
};

const clock = manualClock(Date.now());
let a: Gateway;
let b: Gateway;
let token: string;

before(async () => {
  b = await startGateway({ processor: acquirerOfB });
  a = await startGateway({ clock });
  token = await tokenOf(a);
});
after(async () => { await a?.close(); await b?.close(); });

const atB = (timeoutMs?: number) => ({
  connector: 'opp',
  settings: { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId, ...(timeoutMs ? { timeoutMs } : {}) },
});

async function authorize(card: string, holder: string, value = '100.00') {
  const inst = await instrument(a, token, card, holder);
  const id = await execution(a, token, holder);
  const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, value) });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  return poll(a, token, id, ['created', 'authorizeRequested']);
}

/** What B holds for one of A's attempts, found by the attempt id A sent as merchantTransactionId. */
async function atAcquirer(attemptId: string) {
  const r = await opp(b, 'GET', `/v1/query?merchantTransactionId=${attemptId}`);
  return r.body;
}

describe('an OPP-family acquirer behind a PSP account', () => {
  test('the account is refused with bad settings and shows its token only masked', async () => {
    const admin = adminHeaders(a.dataDir, a.app.config.adminToken);
    const url = `${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts`;
    const bad = await fetch(`${url}/bad`, { method: 'PUT', headers: admin, body: JSON.stringify({ connector: 'opp', settings: { ...atB().settings, baseUrl: 'http://acquirer.example' } }) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /https/);
    const put = await fetch(`${url}/acq-b`, { method: 'PUT', headers: admin, body: JSON.stringify(atB()) });
    assert.equal(put.status, 200);
    const shown = JSON.stringify(await put.json()) + await (await fetch(url, { headers: admin })).text();
    assert.ok(!shown.includes(b.merchant.accessToken), 'the bearer token is never shown back');
    assert.ok(shown.includes(`****${b.merchant.accessToken.slice(-4)}`));
    assert.ok(!a.logs.join('').includes(b.merchant.accessToken), 'nor logged');
  });

  test('authorize, capture and refund on A reach B as PA, CP and RF', async () => {
    await configureCascade(a, { 'acq-b': atB() }, ['acq-b']);
    const e = await authorize(cards.approved, 'c-flow');
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    const [attempt] = e.paymentComposition[0].attempts;
    assert.equal(attempt.pspAccount, 'acq-b');
    const pa = await atAcquirer(attempt.id);
    assert.equal(pa.payments.length, 1);
    assert.deepEqual([pa.payments[0].paymentType, pa.payments[0].amount, pa.payments[0].currency], ['PA', '100.00', 'EUR']);
    assert.equal(pa.payments[0].card.last4Digits, '1111');
    const paId = pa.payments[0].id;

    assert.equal((await call(a, 'POST', `${wf}/${e.id}/capture`, { token, body: { amount: { value: '60.00', currency: 'EUR' }, final: false } })).status, 202);
    assert.equal((await call(a, 'GET', `${wf}/${e.id}`, { token })).body.status, 'partiallyCaptured');
    assert.equal((await call(a, 'POST', `${wf}/${e.id}/refund`, { token, body: { amount: { value: '25.00', currency: 'EUR' } } })).status, 202);
    const now = (await call(a, 'GET', `${wf}/${e.id}`, { token })).body;
    assert.equal(now.status, 'partiallyRefunded', JSON.stringify(now.statusHistory.at(-1)));

    // Every attempt A made reached B under its own id: the authorization, the capture referencing it,
    // and the refund referencing the capture (the platform refunds captured money, never a PA: 700.400.520).
    const attempts = await a.app.storage.db.selectFrom('attempts').select(['id', 'connector', 'psp_reference'])
      .where('payment_id', '=', e.paymentComposition[0].paymentId).orderBy('created_at').execute();
    assert.deepEqual(attempts.map((x) => x.connector), ['opp', 'opp', 'opp']);
    const sent = await Promise.all(attempts.map(async (x) => (await atAcquirer(x.id)).payments));
    assert.deepEqual(sent.map((ps) => ps.map((p: any) => [p.paymentType, p.amount])), [[['PA', '100.00']], [['CP', '60.00']], [['RF', '25.00']]]);
    assert.deepEqual(sent.slice(1).map((ps) => ps[0].referencedId), [paId, sent[1][0].id]);
    // B's answer ids are what A keeps as its PSP references.
    assert.deepEqual(attempts.map((x) => x.psp_reference), sent.map((ps) => ps[0].id));
    // B saw the card once, for the authorization; A never logged it nor the token.
    assert.ok(!a.logs.join('').includes(cards.approved) && !b.logs.join('').includes(cards.approved));
  });

  test('a soft decline at B cascades to a simulated account; a hard decline stops there', async () => {
    await configureCascade(a, { 'acq-b': atB(), 'sim-a': {} }, ['acq-b', 'sim-a'], ['soft', 'error']);
    const soft = await authorize(cards.soft, 'c-soft');
    assert.equal(soft.status, 'authorized');
    const tried = soft.paymentComposition[0].attempts;
    assert.deepEqual(tried.map((x: any) => [x.pspAccount, x.status, x.resultCode]), [['acq-b', 'failed', '800.100.152'], ['sim-a', 'succeeded', '000.100.110']]);
    assert.equal((await atAcquirer(tried[0].id)).payments[0].result.code, '800.100.152');

    const hard = await authorize(cards.hard, 'c-hard');
    assert.equal(hard.status, 'authorizeFailed');
    assert.deepEqual(hard.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.resultCode]), [['acq-b', '800.100.159']]);
    assert.equal(hard.statusHistory.at(-1).errors[0].reason.result, 'BlockedInstrument');
  });

  test('an amount finer than B takes is never sent there: the cascade moves on to an account that takes it', async () => {
    await configureCascade(a, { 'acq-b': atB(), 'sim-a': {} }, ['acq-b', 'sim-a']);
    const inst = await instrument(a, token, cards.approved, 'c-fils');
    const id = await execution(a, token, 'c-fils');
    const body = authorizeBody(inst, '1.255');
    body.amount.currency = 'KWD';
    body.paymentComposition[0]!.amount.currency = 'KWD';
    const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    const e = await poll(a, token, id, ['created', 'authorizeRequested']);
    assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
    const tried = e.paymentComposition[0].attempts;
    assert.deepEqual(tried.map((x: any) => [x.pspAccount, x.status, x.resultCode]), [['acq-b', 'failed', '600.200.500'], ['sim-a', 'succeeded', '000.100.110']]);
    assert.equal((await atAcquirer(tried[0].id)).payments, undefined, 'B never heard of the first attempt');
  });

  test('an answer lost to the account\'s timeout leaves the attempt unknown; the reconciler settles it through B\'s query API', async () => {
    await configureCascade(a, { 'acq-b-impatient': atB(200), 'sim-a': {} }, ['acq-b-impatient', 'sim-a'], ['soft', 'error']);
    const e = await authorize(cards.slow, 'c-slow');
    assert.equal(e.status, 'unknown');
    const [attempt] = e.paymentComposition[0].attempts;
    assert.deepEqual([attempt.pspAccount, attempt.status], ['acq-b-impatient', 'unknown']);
    // B finishes the payment after A gave up on the answer (until then B says it is pending).
    let atAcq: any;
    for (let i = 0; i < 50 && (!atAcq?.payments || atAcq.payments[0].result.code === '000.200.000'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      atAcq = await atAcquirer(attempt.id);
    }
    assert.equal(atAcq.payments[0].result.code, '000.100.110');
    clock.advance(60_000);
    assert.equal(await a.app.payments.reconcile(), 1);
    const settled = (await call(a, 'GET', `${wf}/${e.id}`, { token })).body;
    assert.equal(settled.status, 'authorized');
    assert.deepEqual(settled.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.status]), [['acq-b-impatient', 'succeeded']], 'no second charge elsewhere');
    assert.equal((await atAcquirer(attempt.id)).payments.length, 1, 'B charged once');
  });
});
