/**
 * A cancel at an OPP-family acquirer, which refunds a capture (CP/DB/RB/RC) and refuses a refund of
 * a PA (700.400.520): after several partial captures it gives back each capture's money with a
 * refund naming that capture, so the merchant keeps none of it. An executions refund wider than any
 * one capture is sent the same way, one refund per capture, and its action completes when all have.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

let fake: OppFake;
let gw: Gateway;
let token: string;
before(async () => {
  fake = await startOppFake();
  gw = await startGateway();
  token = await tokenOf(gw);
  await configureCascade(gw, { opp: { connector: 'opp', settings: { baseUrl: fake.url, ...oppFakeCredentials } } }, ['opp']);
});
after(async () => { await gw?.close(); await fake?.close(); });

/** An authorization of 100.00 with captures of 30.00 and 70.00 asked for (not waited for). */
async function capturedTwice(holder: string) {
  const inst = await instrument(gw, token, suiteCards.approved, holder);
  const id = await execution(gw, token, holder);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized');
  const capture = (value: string) => call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } });
  assert.equal((await capture('30.00')).status, 202);
  assert.equal((await capture('70.00')).status, 202);
  return { id, e };
}

test('a cancel after two partial captures of the whole amount refunds each capture, naming it', async () => {
  const { id, e } = await capturedTwice('h-cancel-two');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} })).status, 202);
  const done = await poll(gw, token, id, ['captured']);
  assert.equal(done.status, 'cancelled', JSON.stringify(done.statusHistory.at(-1)));
  const paymentId = e.paymentComposition[0].paymentId;
  const refunds = await gw.app.storage.db.selectFrom('transactions').select(['status', 'result_code', 'amount'])
    .where('payment_id', '=', paymentId).where('type', '=', 'refund').orderBy('seq').execute();
  assert.deepEqual(refunds.map((x) => [x.status, Number(x.amount)]), [['succeeded', 7000], ['succeeded', 3000]], JSON.stringify(refunds));
  // At the acquirer: each RF names its CP.
  const cps = fake.transactions.filter((t) => t.paymentType === 'CP').map((t) => [t.id, t.amount]);
  const rfs = fake.transactions.filter((t) => t.paymentType === 'RF').map((t) => [t.referencedId, t.amount, t.code]);
  assert.deepEqual(rfs, [[cps[1]![0], '70.00', '000.100.110'], [cps[0]![0], '30.00', '000.100.110']]);
  assert.equal(await gw.app.ledger.verify(), undefined);
});

async function twoCaptures(holder: string) {
  const { id, e } = await capturedTwice(holder);
  assert.equal((await poll(gw, token, id, ['authorized', 'captureRequested'])).status, 'captured');
  return { id, paymentId: e.paymentComposition[0].paymentId as string };
}

test('a full refund (no amount) after two partial captures gives all the money back at the acquirer', async () => {
  const { id } = await twoCaptures('h-refund-all');
  const r = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: {} });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const done = await poll(gw, token, id, ['captured', 'refundRequested']);
  const rfs = fake.transactions.filter((t) => t.paymentType === 'RF').map((t) => [t.referencedId, t.amount, t.code]);
  assert.equal(done.status, 'refunded', `${JSON.stringify(done.statusHistory.at(-1))} RFs at the acquirer: ${JSON.stringify(rfs)}`);
  const cps = fake.transactions.filter((t) => t.paymentType === 'CP').slice(-2).map((t) => t.id);
  assert.deepEqual(rfs.slice(-2), [[cps[1], '70.00', '000.100.110'], [cps[0], '30.00', '000.100.110']]);
  assert.equal(await gw.app.ledger.verify(), undefined);
});

test('a partial refund of 80.00 (wider than any one capture) after captures of 30.00 and 70.00 succeeds', async () => {
  const { id } = await twoCaptures('h-refund-80');
  const before = fake.transactions.length;
  const r = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '80.00', currency: 'EUR' } } });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  const done = await poll(gw, token, id, ['captured', 'refundRequested']);
  const rfs = fake.transactions.slice(before).filter((t) => t.paymentType === 'RF').map((t) => [t.referencedId, t.amount, t.code]);
  assert.equal(done.status, 'partiallyRefunded', `${JSON.stringify(done.statusHistory.at(-1))} RFs at the acquirer: ${JSON.stringify(rfs)}`);
  const cps = fake.transactions.filter((t) => t.paymentType === 'CP').slice(-2).map((t) => t.id);
  assert.deepEqual(rfs, [[cps[1], '70.00', '000.100.110'], [cps[0], '10.00', '000.100.110']]);
});

test('a partial refund of 50.00 then a cancel: RFs name the captures with what each has left; ledger balanced', async () => {
  const { id, paymentId } = await twoCaptures('h-refund-cancel');
  const before = fake.transactions.length;
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '50.00', currency: 'EUR' } } })).status, 202);
  assert.equal((await poll(gw, token, id, ['captured', 'refundRequested'])).status, 'partiallyRefunded');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} })).status, 202);
  const done = await poll(gw, token, id, ['partiallyRefunded']);
  assert.equal(done.status, 'cancelled', JSON.stringify(done.statusHistory.at(-1)));
  const cps = fake.transactions.filter((t) => t.paymentType === 'CP').slice(-2).map((t) => t.id);
  const rfs = fake.transactions.slice(before).filter((t) => t.paymentType === 'RF').map((t) => [t.referencedId, t.amount, t.code]);
  assert.deepEqual(rfs, [[cps[1], '50.00', '000.100.110'], [cps[1], '20.00', '000.100.110'], [cps[0], '30.00', '000.100.110']]);
  const refunds = await gw.app.storage.db.selectFrom('transactions').select(['status']).where('payment_id', '=', paymentId).where('type', '=', 'refund').execute();
  assert.equal(refunds.length, 3);
  assert.equal(await gw.app.ledger.verify(), undefined);
});
