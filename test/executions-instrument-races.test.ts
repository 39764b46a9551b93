/**
 * An executions authorization holds its instrument in the unit of work that records it: an
 * instrument deleted, or an ephemeral one spent by another authorization, after it was read and
 * before the intent commits is not charged (refused as instrument not found).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
let token: string;
before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
after(() => gw.close());

/** Runs `meanwhile` once, just before the engine's next pay() (after the execution service read the instrument). */
function beforeNextPay(meanwhile: () => Promise<unknown>) {
  const payments = gw.app.payments as { pay: (i: unknown) => Promise<unknown> };
  const original = payments.pay.bind(payments);
  let armed = true;
  payments.pay = async (input: unknown) => {
    if (armed) { armed = false; await meanwhile(); }
    return original(input);
  };
  return () => { payments.pay = original; };
}

test('an instrument deleted (DELETE acknowledged) while an authorization with it is on its way is not charged', async () => {
  const holder = 'race-delete';
  // A saved card (storeInstrument: true), as a subscription keeps it.
  const made = await call(gw, 'POST', '/payment/instruments', { token, body: { holderReference: holder, paymentMethod: 'card', storeInstrument: true, futureUsage: 'Subscription',
    data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', holderName: 'John Doe' } } });
  assert.equal(made.status, 201);
  const inst: string = made.body.id;
  const id = await execution(gw, token, holder);
  let deleted: number | undefined;
  const undo = beforeNextPay(async () => {
    const del = await call(gw, 'DELETE', `/payment/instruments/${inst}`, { token });
    deleted = del.status;
  });
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '10.00') });
  undo();
  assert.equal(deleted, 200, 'the delete was acknowledged before the authorization was recorded');
  const e = ack.status === 200 ? await poll(gw, token, id, ['created', 'authorizeRequested']) : undefined;
  assert.notEqual(e?.status, 'authorized', `a deleted instrument was charged: ack ${ack.status}, execution ${e?.status}`);
  assert.equal(ack.status, 400, JSON.stringify(ack.body));
  assert.match(ack.body.errors[0].detail, /instrument/i);
});

test('an ephemeral instrument (storeInstrument: false) is spent by ONE authorization, even when two race', async () => {
  const holder = 'race-ephemeral';
  const inst = await instrument(gw, token, '4111111111111111', holder);
  const first = await execution(gw, token, holder);
  const second = await execution(gw, token, holder);
  let secondAck: number | undefined;
  const undo = beforeNextPay(async () => {
    secondAck = (await call(gw, 'POST', `${wf}/${second}/authorize`, { token, body: authorizeBody(inst, '11.00') })).status;
  });
  const firstAck = await call(gw, 'POST', `${wf}/${first}/authorize`, { token, body: authorizeBody(inst, '12.00') });
  undo();
  const a = firstAck.status === 200 ? (await poll(gw, token, first, ['created', 'authorizeRequested'])).status : `refused ${firstAck.status}`;
  const b = secondAck === 200 ? (await poll(gw, token, second, ['created', 'authorizeRequested'])).status : `refused ${secondAck}`;
  assert.ok(!(a === 'authorized' && b === 'authorized'), `one-time instrument charged twice: first ${a}, second ${b}`);
});
