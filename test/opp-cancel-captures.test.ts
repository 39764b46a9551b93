/**
 * A cancel at an OPP-family acquirer, which refunds a capture (CP/DB/RB/RC) and refuses a refund of
 * a PA (700.400.520): after several partial captures it gives back each capture's money with a
 * refund naming that capture, so the merchant keeps none of it.
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

test('a cancel after two partial captures of the whole amount refunds each capture, naming it', async () => {
  const inst = await instrument(gw, token, suiteCards.approved, 'h-cancel-two');
  const id = await execution(gw, token, 'h-cancel-two');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized');
  const capture = (value: string) => call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } });
  assert.equal((await capture('30.00')).status, 202);
  assert.equal((await capture('70.00')).status, 202);
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
