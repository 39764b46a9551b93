/**
 * A PSP's chargeback notice that comes before the notice of the money it takes back (Adyen does
 * not order its items, and resends one it was not answered `[accepted]` for later): it is asked
 * for again, and recorded once that money is. It was answered `[accepted]` and dropped with an
 * error line for an operator: the books never showed the chargeback the scheme had made.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { postPspNotification } from './support/psp-notifications.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

let adyen: AdyenFake;
let gw: Gateway;
let token: string;
before(async () => {
  [adyen, gw] = await Promise.all([startAdyenFake(), startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '1500' } })]);
  token = await tokenOf(gw);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });

const post = (body: string) => postPspNotification(gw, 'adyen', body);
async function deliver() {
  for (const body of adyen.takeNotifications()) assert.deepEqual(await post(body), { status: 200, text: '[accepted]' });
  await gw.app.payments.idle();
}
const ops = async (paymentId: string) => (await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount'])
  .where('payment_id', '=', paymentId).orderBy('seq').execute()).map((o) => `${o.type}:${o.status}:${o.amount}`);
const totals = async (paymentId: string) => ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));

async function authorized(holder: string, value = '50.00') {
  const id = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(gw, token, suiteCards.approved, holder), value) });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
  await deliver();
  const paymentId: string = e.paymentComposition[0].paymentId;
  const opening = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();
  return { id, paymentId, pspReference: opening.psp_reference! };
}

test('a CHARGEBACK delivered before the CAPTURE it follows (Adyen does not order its items) ends in the books once the CAPTURE comes', async () => {
  const { id, paymentId, pspReference } = await authorized('cb-before-capture');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' }, final: true } })).status, 202);
  await gw.app.payments.idle();
  const captureBodies = adyen.takeNotifications(); // held back: Adyen's retry after a failed delivery
  adyen.dispute(pspReference, 'CHARGEBACK', { value: 5000, currency: 'EUR' }, 'DISPUTE0000000001');
  const [cbBody] = adyen.takeNotifications();
  const first = await post(cbBody!);
  assert.notEqual(first.text, '[accepted]', 'asked for again');
  assert.deepEqual(await ops(paymentId), ['authorize:succeeded:5000', 'capture:pending:5000'], 'nothing recorded yet');
  await gw.app.payments.idle();
  for (const b of captureBodies) assert.deepEqual(await post(b), { status: 200, text: '[accepted]' });
  await gw.app.payments.idle();
  assert.deepEqual(await post(cbBody!), { status: 200, text: '[accepted]' });
  await gw.app.payments.idle();
  assert.equal(await gw.app.ledger.verify(), undefined);
  const t = await totals(paymentId);
  assert.equal(t.chargedBack, 5000, `Adyen reported a chargeback of 50.00 and was answered ${JSON.stringify(first)}; the payment's operations: ${JSON.stringify(await ops(paymentId))}`);
});
