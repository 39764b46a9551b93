/**
 * A cancel records all its operations (one refund per capture, then the void of the rest) with
 * their attempts in one unit of work and sends them in turn. A later one is sent however long the
 * earlier calls took within the timeout: it waited for them, its node was not held up (an attempt
 * whose node was is not sent, test/stalled-before-psp-call.test.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';

let fake: OppFake;
let proxy: PspProxy;
let gw: Gateway;
let token: string;
before(async () => {
  fake = await startOppFake();
  // Every refund takes 60% of the PSP timeout: slow, but answered well within it.
  proxy = await pspProxy(fake.url, (c): Routing => (new URLSearchParams(c.body).get('paymentType') === 'RF' ? { delayMs: 1200 } : {}));
  gw = await startGateway({ env: { SWITCHYARD_PSP_TIMEOUT_MS: '2000' } });
  token = await tokenOf(gw);
  await configureCascade(gw, { opp: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['opp']);
});
after(async () => { await gw?.close(); await proxy?.close(); await fake?.close(); });

test('a cancel of two captures and the uncaptured rest sends the void too (each PSP call answered within the timeout)', async () => {
  const holder = 'cancel-slow-refunds';
  const inst = await instrument(gw, token, suiteCards.approved, holder);
  const id = await execution(gw, token, holder);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
  assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
  for (const value of ['30.00', '30.00']) {
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } })).status, 202);
    await gw.app.payments.idle();
  }
  const r = await call(gw, 'POST', `${wf}/${id}/cancel`, { token, body: {} });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await gw.app.payments.idle();
  const types = proxy.calls.map((c) => new URLSearchParams(c.body).get('paymentType'));
  assert.deepEqual(types.filter((t) => t === 'RF').length, 2, JSON.stringify(types));
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.ok(types.includes('RV'), `the void of the uncaptured 40.00 was never sent to the PSP (calls: ${JSON.stringify(types)}; execution ${e.status}, last ${JSON.stringify(e.statusHistory.at(-1))}); the hold stays on the card`);
});
