/**
 * A chargeback on an execution's payment, as its PSP reports it (Adyen's CHARGEBACK, then its
 * CHARGEBACK_REVERSED): the merchant of the executions dialect learns of it as a merchant of the
 * `/v1` dialect does (a CB and a CR payment), in the execution's timeline and by a webhook event
 * that names the dispute and its amount. The money moved without any call of the merchant's, so a
 * backend that follows webhooks must be told; a notification sent again tells nothing new.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { admin } from './support/webhooks.ts';

let adyen: AdyenFake;
let gw: Gateway;
before(async () => {
  [adyen, gw] = await Promise.all([startAdyenFake(), startGateway()]);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['adyen']);
});
after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });

const deliver = () => deliverAdyenNotifications(gw, adyen);
const eventsOf = async (executionId: string) => (await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload'])
  .where('subject_id', '=', executionId).orderBy('created_at').execute()).map((r) => ({ type: r.type, payload: JSON.parse(r.payload) }));

test('a chargeback and its reversal reach the execution: its timeline and one webhook event each, naming the dispute and its amount', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'cb-events', suiteCards.approved, '50.00');
  await deliver();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' } } })).status, 202);
  await gw.app.payments.idle();
  await deliver();
  const before = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.equal(before.status, 'captured');
  const opening = await gw.app.storage.db.selectFrom('transactions').select('psp_reference').where('payment_id', '=', paymentId).where('seq', '=', 0).executeTakeFirstOrThrow();

  adyen.dispute(opening.psp_reference!, 'CHARGEBACK', { value: 2000, currency: 'EUR' }, 'DISPUTECBEVENTS');
  await deliver();
  const charged = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.deepEqual(charged.statusHistory.slice(before.statusHistory.length).map((h: { code: string }) => h.code), ['chargebackReceived'],
    `the execution's timeline after the chargeback: ${JSON.stringify(charged.statusHistory)}`);
  // The status stays what the merchant's own actions made it: a chargeback is the scheme's, not an action.
  assert.equal(charged.status, 'captured');
  let events = (await eventsOf(id)).filter((e) => e.type === 'execution.chargebackReceived');
  assert.equal(events.length, 1, 'one chargebackReceived event');
  const cb = events[0]!.payload;
  assert.equal(cb.event, 'chargebackReceived');
  assert.equal(cb.eventTrigger, 'external');
  assert.equal(cb.details.execution.id, id);
  assert.equal(cb.details.execution.merchantReference, charged.merchantReference);
  assert.deepEqual(cb.details.dispute, { reference: 'DISPUTECBEVENTS', amount: { value: '20.00', currency: 'EUR' }, pspEvent: 'CHARGEBACK' });
  assert.equal(cb.time, charged.statusHistory.at(-1).time, 'the event is timed as its timeline entry');

  // Adyen sends it again: nothing new.
  adyen.dispute(opening.psp_reference!, 'CHARGEBACK', { value: 2000, currency: 'EUR' }, 'DISPUTECBEVENTS');
  await deliver();
  assert.equal((await eventsOf(id)).filter((e) => e.type === 'execution.chargebackReceived').length, 1, 'a chargeback sent again is no second event');

  adyen.dispute(opening.psp_reference!, 'CHARGEBACK_REVERSED', { value: 2000, currency: 'EUR' }, 'DISPUTECBEVENTS');
  await deliver();
  const reversed = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.deepEqual(reversed.statusHistory.slice(before.statusHistory.length).map((h: { code: string }) => h.code), ['chargebackReceived', 'chargebackReversed']);
  events = (await eventsOf(id)).filter((e) => e.type === 'execution.chargebackReversed');
  assert.equal(events.length, 1, 'one chargebackReversed event');
  assert.deepEqual(events[0]!.payload.details.dispute, { reference: 'DISPUTECBEVENTS', amount: { value: '20.00', currency: 'EUR' }, pspEvent: 'CHARGEBACK_REVERSED' });
  assert.equal(reversed.status, 'captured');
});

test('an endpoint can subscribe to the chargeback events by name', async () => {
  const r = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'executions', url: 'https://93.184.215.14/hooks', types: ['chargebackReceived', 'chargebackReversed'] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
});
