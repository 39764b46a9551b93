/**
 * An OPP-family acquirer answering a refund with a long pending (`800.400.502`, "waiting for
 * confirmation of non-instant refund", which may change after days) has accepted it: ended
 * `expired` past SWITCHYARD_ASYNC_TIMEOUT_MS, its amount was free to be refunded again, and the
 * acquirer's later confirmation would have paid the shopper back twice. It stays pending, asked
 * again on its backoff, until the acquirer says how it ended.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { oppFakeCredentials, startOppFake, type OppFake } from './support/fake-psps/opp.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';

const clock = manualClock(Date.now());
let acquirer: OppFake;
let proxy: PspProxy;
let gw: Gateway;
/** The refund's own id at the acquirer, as its pending answer gives it. */
const refundId = '8ac7a4a1' + 'f'.repeat(24);
const pendingRefund = (merchantTransactionId: string) => ({
  id: refundId, paymentType: 'RF', amount: '20.00', currency: 'EUR', merchantTransactionId,
  result: { code: '800.400.502', description: 'Waiting for confirmation of non-instant refund. Denied for now.' },
});
let refundAttempt = '';
before(async () => {
  [acquirer, gw] = await Promise.all([startOppFake(), startGateway({ clock })]);
  proxy = await pspProxy(acquirer.url, (c): Routing => {
    const form = new URLSearchParams(c.body);
    if (c.method === 'POST' && form.get('paymentType') === 'RF') {
      refundAttempt = form.get('merchantTransactionId')!;
      return { answer: { status: 200, json: pendingRefund(refundAttempt) } };
    }
    // Its status: still pending, days later.
    if (c.method === 'GET' && refundAttempt !== '' && c.url.includes(refundAttempt)) {
      return { answer: { status: 200, json: { result: { code: '000.000.100', description: 'successful request' }, payments: [pendingRefund(refundAttempt)] } } };
    }
    return {};
  });
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['acq']);
});
after(async () => { await Promise.all([gw?.close(), acquirer?.close(), proxy?.close()]); });

test('a refund the acquirer holds as a long pending is not ended past the async timeout: its amount cannot be refunded twice', async () => {
  const debit = await opp(gw, 'POST', '/v1/payments', { amount: '50.00', currency: 'EUR', paymentType: 'DB', ...testCard });
  assert.match(debit.body.result.code, /^000\.100\.11/, JSON.stringify(debit.body));
  const refund = await opp(gw, 'POST', `/v1/payments/${debit.body.id}`, { paymentType: 'RF', amount: '20.00', currency: 'EUR' });
  assert.equal(refund.body.result.code, '800.400.502', JSON.stringify(refund.body));
  await gw.app.payments.idle();

  for (const minutes of [2, 40, 120]) {
    clock.advance(minutes * 60_000);
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
  }
  const held = await opp(gw, 'GET', `/v1/query/${refund.body.id}`);
  assert.notEqual(held.body.result.code, '100.396.103', `the refund was ended as expired: ${JSON.stringify(held.body.result)}`);
  // 30.00 is all that may still be refunded while the 20.00 stands at the acquirer.
  const more = await opp(gw, 'POST', `/v1/payments/${debit.body.id}`, { paymentType: 'RF', amount: '40.00', currency: 'EUR' });
  assert.equal(more.body.result.code, '700.400.200', JSON.stringify(more.body));
});
