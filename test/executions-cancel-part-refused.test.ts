/**
 * A cancel of captured money at an OPP-family acquirer goes out as one refund per capture, then a
 * void of the uncaptured rest. When the acquirer takes some of it and refuses the rest, the cancel
 * fails, and the execution's status says what the money now is: the merchant reading it learns that
 * money went back, as after a refund in parts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { oppRefusal, startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';

let fake: OppFake;
let proxy: PspProxy;
let gw: Gateway;
let token: string;
before(async () => {
  fake = await startOppFake();
  // The acquirer refuses a refund of 30.00, and every void.
  proxy = await pspProxy(fake.url, (c): Routing => {
    const f = new URLSearchParams(c.body);
    const type = f.get('paymentType');
    if ((type === 'RF' && f.get('amount') === '30.00') || type === 'RV') {
      return { answer: oppRefusal(type, f.get('amount') ?? '') };
    }
    return {};
  });
  gw = await startGateway();
  token = await tokenOf(gw);
  await configureCascade(gw, { opp: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['opp']);
});
after(async () => { await gw?.close(); await proxy?.close(); await fake?.close(); });

/** An execution authorized for 100.00 with the given captures made, then cancelled; its record once the cancel has ended. */
async function cancelledAfter(holder: string, captures: string[]) {
  const inst = await instrument(gw, token, suiteCards.approved, holder);
  const id = await execution(gw, token, holder);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
  assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
  for (const value of captures) {
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } })).status, 202);
  }
  const captured = captures.length > 0 ? await poll(gw, token, id, ['authorized', 'captureRequested']) : (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  const r = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await gw.app.payments.idle();
  return { before: captured, after: (await call(gw, 'GET', `${wf}/${id}`, { token })).body };
}

test('one capture\'s refund refused, the other\'s taken: the cancel fails and the execution reads partiallyRefunded, not captured', async () => {
  const { before: b, after: done } = await cancelledAfter('cancel-part-refused', ['30.00', '70.00']);
  assert.equal(b.status, 'captured');
  const taken = fake.transactions.filter((t) => t.paymentType === 'RF' && t.code === '000.100.110').map((t) => t.amount);
  assert.deepEqual(taken, ['70.00'], 'the acquirer gave 70.00 back');
  assert.equal(done.refundedAmount?.value, '70.00');
  assert.equal(done.statusHistory.at(-1).code, 'cancelFailed');
  assert.equal(done.status, 'partiallyRefunded', `70.00 went back on the cancel, yet the execution reads ${done.status}`);
});

test('the capture refunded, the void of the uncaptured rest refused: the cancel fails and the execution reads refunded, not partiallyCaptured', async () => {
  const { before: b, after: done } = await cancelledAfter('cancel-void-refused', ['40.00']);
  assert.equal(b.status, 'partiallyCaptured');
  assert.equal(done.refundedAmount?.value, '40.00');
  assert.equal(done.statusHistory.at(-1).code, 'cancelFailed');
  assert.equal(done.status, 'refunded', `all 40.00 captured went back on the cancel, yet the execution reads ${done.status}`);
});

test('nothing of the cancel taken (the void refused, nothing captured): the execution stays authorized', async () => {
  const { before: b, after: done } = await cancelledAfter('cancel-nothing-taken', []);
  assert.equal(b.status, 'authorized');
  assert.equal(done.statusHistory.at(-1).code, 'cancelFailed');
  assert.equal(done.status, 'authorized');
});
