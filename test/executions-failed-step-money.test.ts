/**
 * A capture or refund that fails never hides money that moved: after a second partial capture is
 * refused, the first stays captured and refundable; after one part of a refund in parts is refused,
 * the part that went back shows as refunded. The failure itself is the history entry and the webhook.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, authorizedExecution, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { oppRefusal, startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';

describe('a second partial capture refused by the PSP', () => {
  let adyen: AdyenFake;
  let gw: Gateway;
  before(async () => {
    // The gateway's account captures in several parts; this Adyen refuses every capture after the first.
    [adyen, gw] = await Promise.all([startAdyenFake({}), startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '1000' } })]);
    await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials, multiplePartialCaptures: true } } }, ['adyen']);
  });
  after(async () => { await Promise.all([gw?.close(), adyen?.close()]); });

  test('leaves the first capture partially captured and refundable, with captureFailed in the history', async () => {
    const token = await tokenOf(gw);
    const { id } = await authorizedExecution(gw, token, 'two-captures', suiteCards.approved, '50.00');
    await deliverAdyenNotifications(gw, adyen);
    const capture = (value: string) => call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } });
    assert.equal((await capture('20.00')).status, 202);
    await gw.app.payments.idle();
    await deliverAdyenNotifications(gw, adyen);
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'partiallyCaptured');

    assert.equal((await capture('10.00')).status, 202);
    await gw.app.payments.idle();
    await deliverAdyenNotifications(gw, adyen);
    const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    assert.equal(e.capturedAmount.value, '20.00');
    assert.equal(e.statusHistory.at(-1).code, 'captureFailed');
    assert.equal(e.status, 'partiallyCaptured', 'the status says what the money says');
    assert.ok(e.links.refund, `20.00 is captured, yet no refund link (status ${e.status}, links ${Object.keys(e.links)})`);
    const rf = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '5.00', currency: 'EUR' } } });
    assert.equal(rf.status, 202, `refund of captured money refused: ${JSON.stringify(rf.body)}`);
  });
});

describe('a refund in parts with one part refused by the acquirer', () => {
  let fake: OppFake;
  let proxy: PspProxy;
  let gw: Gateway;
  let token: string;
  before(async () => {
    fake = await startOppFake();
    // The acquirer refuses the refund of 10.00 (the part drawn on the 30.00 capture).
    proxy = await pspProxy(fake.url, (c): Routing => {
      const f = new URLSearchParams(c.body);
      if (f.get('paymentType') === 'RF' && f.get('amount') === '10.00') {
        return { answer: oppRefusal('RF', '10.00', 'cannot refund') };
      }
      return {};
    });
    gw = await startGateway();
    token = await tokenOf(gw);
    await configureCascade(gw, { opp: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['opp']);
  });
  after(async () => { await gw?.close(); await proxy?.close(); await fake?.close(); });

  test('shows the part that went back (partiallyRefunded), with refundFailed in the history; the books balance', async () => {
    const inst = await instrument(gw, token, suiteCards.approved, 'h-parts-fail');
    const id = await execution(gw, token, 'h-parts-fail');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') })).status, 200);
    assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
    const capture = (value: string) => call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } });
    assert.equal((await capture('30.00')).status, 202);
    assert.equal((await capture('70.00')).status, 202);
    assert.equal((await poll(gw, token, id, ['authorized', 'captureRequested'])).status, 'captured');
    const r = await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: { value: '80.00', currency: 'EUR' } } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const done = await poll(gw, token, id, ['captured', 'refundRequested']);
    const taken = fake.transactions.filter((t) => t.paymentType === 'RF' && t.code === '000.100.110').map((t) => t.amount);
    assert.deepEqual(taken, ['70.00'], 'the acquirer gave 70.00 back');
    assert.equal(done.status, 'partiallyRefunded', `70.00 of the shopper's money went back, yet the execution reads ${done.status}`);
    assert.equal(done.statusHistory.at(-1).code, 'refundFailed');
    assert.equal(done.refundedAmount.value, '70.00');
    assert.equal(await gw.app.ledger.verify(), undefined);
  });
});
