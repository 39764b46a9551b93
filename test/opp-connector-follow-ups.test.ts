/**
 * Refunds, cancels and rebills of payments with several captures, sent through the OPP connector to
 * a second gateway (B) that applies the /v1 rules on named transactions: a refund names the
 * capture (or sale, or rebill) whose money it gives back, as the platform requires; one wider than
 * any one capture names the payment's opening transaction, so B judges it by the payment's totals.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { defaultSettings } from '../src/processors/simulator/settings.ts';
import { opp, pay, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
const acquirerOfB = sim.forAccount('b-acquirer', { ...defaultSettings });
const clock = manualClock(Date.now());
let a: Gateway;
let b: Gateway;
let token: string;

before(async () => {
  b = await startGateway({ processor: acquirerOfB });
  a = await startGateway({ clock });
  token = await tokenOf(a);
  await configureCascade(a, { 'acq-b': { connector: 'opp', settings: { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId } } }, ['acq-b']);
});
after(async () => { await a?.close(); await b?.close(); });

async function authorized(holder: string, value = '100.00') {
  const inst = await instrument(a, token, '4111111111111111', holder);
  const id = await execution(a, token, holder);
  const ack = await call(a, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, value) });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(a, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized');
  return e;
}
const capture = (id: string, value: string) => call(a, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } });
const lastRefund = async (paymentId: string) => a.app.storage.db.selectFrom('transactions').select(['status', 'result_code', 'amount'])
  .where('payment_id', '=', paymentId).where('type', '=', 'refund').orderBy('created_at', 'desc').executeTakeFirstOrThrow();

test('executions: a refund of more than any one capture (captures 30 + 70, refund 90) is accepted by B', async () => {
  const e = await authorized('c-two-captures');
  assert.equal((await capture(e.id, '30.00')).status, 202);
  assert.equal((await capture(e.id, '70.00')).status, 202);
  const r = await call(a, 'POST', `${wf}/${e.id}/refund`, { token, body: { amount: { value: '90.00', currency: 'EUR' } } });
  const now = (await call(a, 'GET', `${wf}/${e.id}`, { token })).body;
  const rf = await lastRefund(e.paymentComposition[0].paymentId);
  assert.equal(now.status, 'partiallyRefunded', `refund answered ${r.status}; execution ${now.status}; refund at A ${JSON.stringify(rf)}`);
});

test('executions: cancelling a payment with two partial captures refunds them at B', async () => {
  const e = await authorized('c-cancel');
  assert.equal((await capture(e.id, '30.00')).status, 202);
  assert.equal((await capture(e.id, '50.00')).status, 202);
  const r = await call(a, 'POST', `${wf}/${e.id}/cancel`, { token, body: {} });
  const now = (await call(a, 'GET', `${wf}/${e.id}`, { token })).body;
  const rf = await lastRefund(e.paymentComposition[0].paymentId);
  assert.equal(rf.status, 'succeeded', `cancel answered ${r.status}; execution ${now.status}; refund of 80.00 at A ${JSON.stringify(rf)}`);
});

test('executions: cancelling a payment with one capture refunds that capture at B, naming it (the platform refunds no PA)', async () => {
  const e = await authorized('c-cancel-one');
  assert.equal((await capture(e.id, '60.00')).status, 202);
  assert.equal((await call(a, 'POST', `${wf}/${e.id}/cancel`, { token, body: {} })).status, 202);
  const paymentId = e.paymentComposition[0].paymentId;
  const sent = await a.app.storage.db.selectFrom('attempts').innerJoin('transactions', 'transactions.id', 'attempts.transaction_id')
    .select(['attempts.id', 'transactions.type', 'attempts.psp_reference']).where('attempts.payment_id', '=', paymentId).execute();
  const capturedAt = sent.find((x) => x.type === 'capture')!;
  const refundAtB = (await opp(b, 'GET', `/v1/query?merchantTransactionId=${sent.find((x) => x.type === 'refund')!.id}`)).body.payments[0];
  assert.deepEqual([refundAtB.paymentType, refundAtB.amount, refundAtB.referencedId], ['RF', '60.00', capturedAt.psp_reference]);
  assert.equal((await lastRefund(paymentId)).status, 'succeeded');
});

test('/v1 on A: a refund naming a capture after a dashboard-style refund of the payment drew from the same capture', async () => {
  const paA = await pay(a, { paymentType: 'PA', amount: '100.00' });
  assert.equal(paA.body.result.code, '000.100.110', JSON.stringify(paA.body));
  const cp1 = await opp(a, 'POST', `/v1/payments/${paA.body.id}`, { paymentType: 'CP', amount: '30.00', currency: 'EUR' });
  assert.equal(cp1.body.result.code, '000.100.110');
  assert.equal((await opp(a, 'POST', `/v1/payments/${paA.body.id}`, { paymentType: 'CP', amount: '70.00', currency: 'EUR' })).body.result.code, '000.100.110');
  // The dashboard (the payment as a whole) refunds 30: A sends it to B naming the first capture.
  const paymentId = (await a.app.storage.db.selectFrom('transactions').select('payment_id').where('id', '=', paA.body.id).executeTakeFirstOrThrow()).payment_id;
  const merchant = (await a.app.merchants.byId(a.merchant.merchantId))!;
  const whole = await a.app.payments.followUp({ merchant, scope: { channel: 'opp', entityId: a.merchant.entityId }, kind: 'refund', referencedId: paymentId,
    amount: { amount: 3000, currency: 'EUR' }, merchantTransactionId: undefined, context: {}, testParameters: {} } as any);
  assert.ok(whole.ok, JSON.stringify(whole));
  // 70 of the payment is left, and A's own check says the first capture has 30 left: A accepts, B refuses.
  const rf = await opp(a, 'POST', `/v1/payments/${cp1.body.id}`, { paymentType: 'RF', amount: '20.00', currency: 'EUR' });
  const sentA = await a.app.storage.db.selectFrom('attempts').select(['id', 'status', 'result_code']).where('transaction_id', '=', rf.body.id).execute();
  assert.equal(sentA.length, 1, 'A accepted the refund and sent it to B');
  assert.equal(rf.body.result.code, '000.100.110', `RF 20.00 naming the first capture answered ${rf.body.result.code} ${rf.body.result.description}`);
});

test('/v1 on A: a refund naming a rebill of a DB (DB 10 + RB 50, RF 40 naming the RB) is accepted by B', async () => {
  const db = await pay(a, { paymentType: 'DB', amount: '10.00' });
  assert.equal(db.body.result.code, '000.100.110', JSON.stringify(db.body));
  const rb = await opp(a, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RB', amount: '50.00', currency: 'EUR' });
  assert.equal(rb.body.result.code, '000.100.110', JSON.stringify(rb.body));
  const rf = await opp(a, 'POST', `/v1/payments/${rb.body.id}`, { paymentType: 'RF', amount: '40.00', currency: 'EUR' });
  const sentA = await a.app.storage.db.selectFrom('attempts').select(['id']).where('transaction_id', '=', rf.body.id).execute();
  assert.equal(sentA.length, 1, 'A accepted the refund and sent it to B');
  assert.equal(rf.body.result.code, '000.100.110', `RF 40.00 naming the 50.00 rebill answered ${rf.body.result.code}`);
  assert.equal(rf.body.result.code, '000.100.110', `RF 40.00 naming the 50.00 rebill answered ${rf.body.result.code} ${rf.body.result.description}`);
});

test('/v1 on A: a rebill naming the capture of a PA-based payment is accepted by B', async () => {
  const paA = await pay(a, { paymentType: 'PA', amount: '100.00' });
  const cp = await opp(a, 'POST', `/v1/payments/${paA.body.id}`, { paymentType: 'CP', amount: '100.00', currency: 'EUR' });
  assert.equal(cp.body.result.code, '000.100.110');
  const rb = await opp(a, 'POST', `/v1/payments/${cp.body.id}`, { paymentType: 'RB', amount: '20.00', currency: 'EUR' });
  const sentA = await a.app.storage.db.selectFrom('attempts').select(['id']).where('transaction_id', '=', rb.body.id).execute();
  assert.equal(sentA.length, 1, `A accepted the rebill and sent it to B (${rb.body.result.code})`);
  assert.equal(rb.body.result.code, '000.100.110', `RB 20.00 naming the capture answered ${rb.body.result.code} ${rb.body.result.description}`);
});

test('/v1 on A: a merchant-initiated charge of a registration reaches B marked MIT, so B asks for no 3-D Secure', async () => {
  const reg = await opp(a, 'POST', '/v1/registrations', { ...testCard, 'card.number': '4200000000000042' });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  const r = await opp(a, 'POST', `/v1/registrations/${reg.body.id}/payments`, {
    amount: '15.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT', 'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'UNSCHEDULED',
  });
  assert.equal(r.body.result.code, '000.100.110', `A's MIT charge at B: ${JSON.stringify(r.body.result)}`);
  assert.equal(r.body.redirect, undefined);
});

test('/v1 on B itself: a merchant-initiated charge with card data is not sent to a 3-D Secure challenge; a customer-initiated one is', async () => {
  const charge = (source: string) => opp(b, 'POST', '/v1/payments', {
    ...testCard, 'card.number': '4200000000000042', amount: '15.00', currency: 'EUR', paymentType: 'DB',
    'standingInstruction.mode': 'REPEATED', 'standingInstruction.type': 'RECURRING', 'standingInstruction.source': source, shopperResultUrl: 'https://shop.example/return',
  });
  const mit = await charge('MIT');
  assert.equal(mit.body.redirect, undefined, `a MIT charge was sent to 3-D Secure: ${mit.body.result.code}`);
  assert.equal(mit.body.result.code, '000.100.110');
  const cit = await charge('CIT');
  assert.equal(cit.body.result.code, '000.200.000', 'the cardholder is there: the challenge card is challenged');
});
