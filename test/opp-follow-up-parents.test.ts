// Back-office calls name one transaction of a payment; each operation applies only to some kinds
// (a capture to the PA; a refund to a DB, CP, RB or RC; a reversal to the PA; a chargeback or
// rebill to money that moved), as the platform's own codes say, and nothing changes when it is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';

const success = '000.100.110';
const clock = manualClock(Date.now());
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());
const pa = (amount: string) => pay(gw, { paymentType: 'PA', amount });
const bo = (id: string, paymentType: string, params: Record<string, string> = {}) => opp(gw, 'POST', `/v1/payments/${id}`, { paymentType, ...params });
const eur = (amount: string) => ({ amount, currency: 'EUR' });
const rows = async (paymentOf: string) => {
  const p = (await gw.app.storage.db.selectFrom('transactions').select('payment_id').where('id', '=', paymentOf).executeTakeFirstOrThrow()).payment_id;
  return gw.app.storage.db.selectFrom('transactions').selectAll().where('payment_id', '=', p).execute();
};

test('RV naming a refund is refused (700.400.530) and does not release the authorization\'s open rest', async () => {
  const id = (await pa('100.00')).body.id;
  const cp = (await bo(id, 'CP', eur('40.00'))).body.id;
  const rf = (await bo(cp, 'RF', eur('10.00'))).body.id;
  const rv = await bo(rf, 'RV');
  // 700.400.530: a reversal needs a successful CP, DB, RB or PA; a refund is none of them.
  assert.equal(rv.status, 400, `RV on an RF answered ${rv.status} ${rv.body.result.code}, releasing ${rv.body.amount}`);
  assert.equal(rv.body.result.code, '700.400.530');
  assert.equal((await bo(id, 'CP', eur('60.00'))).body.result.code, success, 'the rest of the hold is still capturable');
});

test('RV naming a capture of a partly captured PA does not release the PA\'s open rest while answering as if the capture was reversed', async () => {
  const id = (await pa('100.00')).body.id;
  const cp = (await bo(id, 'CP', eur('30.00'))).body.id;
  const rv = await bo(cp, 'RV');
  // RV on a CP could only reverse that capture (before settlement); it is never a void of the PA.
  assert.notEqual(rv.body.amount, '70.00', `RV on the capture ${cp} answered ${rv.body.result.code} and released the PA's 70.00 instead`);
  assert.equal(rv.status, 400);
  assert.equal(rv.body.result.code, '700.300.700', 'a capture is settled money: a refund gives it back');
  assert.equal((await bo(id, 'CP', eur('70.00'))).body.result.code, success, 'the uncaptured 70.00 of the PA is still capturable');
});

test('RF naming a refund is refused with 700.400.520 and refunds nothing', async () => {
  const id = (await pay(gw, { amount: '50.00' })).body.id;
  const rf = (await bo(id, 'RF', eur('10.00'))).body.id;
  const again = await bo(rf, 'RF', eur('10.00'));
  assert.equal(again.body.result.code, '700.400.520', `refund of a refund answered ${again.body.result.code}`);
  assert.equal((await rows(id)).filter((t) => t.type === 'refund' && t.status === 'succeeded').length, 1);
});

test('RF naming a declined capture is refused with 700.400.520', async () => {
  const id = (await pa('100.00')).body.id;
  assert.equal((await bo(id, 'CP', eur('30.00'))).body.result.code, success);
  const declined = await bo(id, 'CP', { ...eur('20.00'), 'customParameters[forceResultCode]': '800.100.152' });
  assert.equal(declined.body.result.code, '800.100.152');
  const rf = await bo(declined.body.id, 'RF', eur('5.00'));
  assert.equal(rf.body.result.code, '700.400.520', `refund of a declined capture answered ${rf.body.result.code}`);
});

test('CP naming a capture (or a declined capture) is refused with 700.400.510', async () => {
  const id = (await pa('100.00')).body.id;
  const cp = (await bo(id, 'CP', eur('30.00'))).body.id;
  const onCp = await bo(cp, 'CP', eur('10.00'));
  assert.equal(onCp.body.result.code, '700.400.510', `CP on a CP answered ${onCp.body.result.code}`);
  const declined = (await bo(id, 'CP', { ...eur('20.00'), 'customParameters[forceResultCode]': '800.100.152' })).body.id;
  const onDeclined = await bo(declined, 'CP', eur('10.00'));
  assert.equal(onDeclined.body.result.code, '700.400.510', `CP on a declined CP answered ${onDeclined.body.result.code}`);
});

test('RF naming one capture cannot refund more than that capture (700.400.200)', async () => {
  const id = (await pa('100.00')).body.id;
  const cp1 = (await bo(id, 'CP', eur('30.00'))).body.id;
  assert.equal((await bo(id, 'CP', eur('70.00'))).body.result.code, success);
  const rf = await bo(cp1, 'RF', eur('50.00'));
  assert.equal(rf.body.result.code, '700.400.200', `a 50.00 refund of a 30.00 capture answered ${rf.body.result.code}`);
});

test('CB naming a refund, or an authorization nothing was captured of, is refused with 700.400.550', async () => {
  const db = (await pay(gw, { amount: '50.00' })).body.id;
  const rf = (await bo(db, 'RF', eur('5.00'))).body.id;
  const onRf = await bo(rf, 'CB', eur('5.00'));
  assert.equal(onRf.body.result.code, '700.400.550', `CB on an RF answered ${onRf.body.result.code}`);
  const id = (await pa('100.00')).body.id;
  const onPa = await bo(id, 'CB', eur('10.00'));
  assert.equal(onPa.body.result.code, '700.400.550', `CB on a PA answered ${onPa.body.result.code}`);
});

test('RF naming the PA names the payment as a whole: refused (700.400.520) until something is captured, then limited by the payment\'s totals', async () => {
  const id = (await pa('100.00')).body.id;
  assert.equal((await bo(id, 'RF', eur('10.00'))).body.result.code, '700.400.520');
  await bo(id, 'CP', eur('30.00'));
  assert.equal((await bo(id, 'RF', eur('30.01'))).body.result.code, '700.400.200');
  assert.equal((await bo(id, 'RF', eur('30.00'))).body.result.code, success);
});

test('RB naming a refund is refused', async () => {
  const db = (await pay(gw, { amount: '50.00' })).body.id;
  const rf = (await bo(db, 'RF', eur('5.00'))).body.id;
  const rb = await bo(rf, 'RB', eur('5.00'));
  assert.equal(rb.status, 400, `RB on an RF answered ${rb.body.result.code}`);
});
