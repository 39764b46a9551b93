/**
 * A refund Stripe reports `pending` (its balance short, or a bank still to confirm) is one Stripe
 * accepted and will pay out; `refund.updated` tells later how it ended, possibly days after. Ended
 * `expired` by the reconciler past SWITCHYARD_ASYNC_TIMEOUT_MS, the books said the shopper got
 * nothing back, the amount was refundable again, and Stripe's later success was not recorded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { startGateway, type Gateway } from './support/harness.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { signatureHeader } from '../src/processors/stripe/webhook.ts';
import { postPspNotification } from './support/psp-notifications.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';

const clock = manualClock(Date.now());
let stripe: StripeFake;
let proxy: PspProxy;
let gw: Gateway;
/** Stripe's status calls fail (a 5xx), as they do now and then. */
let failLookups = false;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake(), startGateway({ clock })]);
  // The refund reaches Stripe; its answer is lost on the way back, so the reconciler asks.
  proxy = await pspProxy(stripe.url, (c): Routing => (c.method === 'POST' && c.url === '/v1/refunds' ? 'lose-answer'
    : failLookups && c.method === 'GET' ? { answer: { status: 500, json: { error: { type: 'api_error', message: 'internal' } } } } : {}));
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: proxy.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close(), proxy?.close()]); });

const eur = (value: string) => ({ value, currency: 'EUR' });

/**
 * An execution captured in full and refunded 20.00, whose refund Stripe took and holds pending (the
 * answer lost, so the reconciler asks), asked about once: its token, ids and Stripe's refund.
 */
async function refundHeldPending(ref: string) {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, ref, suiteCards.approved, '50.00');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: eur('50.00'), final: true } })).status, 202);
  await gw.app.payments.idle();
  assert.equal((await call(gw, 'POST', `${wf}/${id}/refund`, { token, body: { amount: eur('20.00') } })).status, 202);
  await gw.app.payments.idle();
  const refund = stripe.refunds().at(-1)! as Record<string, unknown>;
  refund.status = 'pending';
  stripe.takeEvents();
  clock.advance(2 * 60_000);
  await gw.app.payments.reconcile();
  return { token, id, paymentId, refund };
}

test('a refund Stripe holds pending past the async timeout is not ended as failed: its later success is recorded once', async () => {
  const { token, id, paymentId, refund } = await refundHeldPending('pending-refund');
  // Asked again after the shopper's timeout: still pending.
  clock.advance(40 * 60_000);
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();

  // Stripe pays the refund out and says so.
  refund.status = 'succeeded';
  const body = JSON.stringify({ id: 'evt_refund_succeeded', object: 'event', type: 'refund.updated', api_version: '2024-06-20', created: Math.floor(Date.now() / 1000), data: { object: refund } });
  const ack = await postPspNotification(gw, 'stripe', body, { 'stripe-signature': signatureHeader(body, stripeFakeCredentials.webhookSecret, Math.floor(Date.now() / 1000)) });
  assert.equal(ack.status, 200);
  await gw.app.payments.idle();

  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount', 'reason']).where('payment_id', '=', paymentId).orderBy('seq').execute();
  const summary = ops.map((o) => [o.type, o.status, Number(o.amount), o.reason]);
  const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
  assert.equal(totals.refunded, 2000, `Stripe refunded 20.00, but the books show ${totals.refunded} refunded: ${JSON.stringify(summary)}`);
  // Told the refund failed, the merchant could refund the same 20.00 again: Stripe would pay it twice.
  const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
  assert.notEqual(e.status, 'refundFailed', JSON.stringify(e.statusHistory));
});

test('nor is it ended when, past the timeout, Stripe\'s status call fails: a failed call says nothing of how the refund ended', async () => {
  const { paymentId } = await refundHeldPending('pending-refund-lookup-fails');
  failLookups = true;
  try {
    clock.advance(40 * 60_000);
    await gw.app.payments.reconcile().catch(() => undefined);
    await gw.app.payments.idle();
  } finally {
    failLookups = false;
  }
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'reason']).where('payment_id', '=', paymentId).where('type', '=', 'refund').execute();
  assert.deepEqual(ops.map((o) => [o.status, o.reason]), [['pending', null]], 'still pending, as Stripe last said');
});
