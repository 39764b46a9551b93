/**
 * A final capture on a Stripe account with multicapture, whose void of the rest
 * Stripe refuses. The engine must not keep sending voids: one refusal (or a bounded few) and the
 * rest stays for the merchant or the expiry job, never a void after every void.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startStripeFake, stripeFakeCredentials, type StripeFake } from './support/fake-psps/stripe.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

let stripe: StripeFake;
let proxy: PspProxy;
let gw: Gateway;
before(async () => {
  [stripe, gw] = await Promise.all([startStripeFake({ multicapture: true }), startGateway()]);
  // Every cancel is refused, as Stripe refuses one it cannot do.
  const refusal = { status: 400, json: { error: { type: 'invalid_request_error', code: 'processing_error', message: 'An error occurred while processing the cancellation.' } } };
  proxy = await pspProxy(stripe.url, (c): Routing => (c.url.endsWith('/cancel') ? { answer: refusal } : {}));
  await configureCascade(gw, { stripe: { connector: 'stripe', settings: { baseUrl: proxy.url, ...stripeFakeCredentials } } }, ['stripe']);
});
after(async () => { await Promise.all([gw?.close(), stripe?.close(), proxy?.close()]); });

test('a final capture whose void of the rest the PSP refuses does not send void after void', async () => {
  const token = await tokenOf(gw);
  const { id, paymentId } = await authorizedExecution(gw, token, 'void-refused', suiteCards.approved, '50.00');
  const capture = call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: true } });
  const answered = await Promise.race([capture.then((r) => r.status), new Promise((r) => setTimeout(() => r('no answer after 4s'), 4000).unref())]);
  await new Promise((r) => setTimeout(r, 1000));
  const sent = proxy.calls.filter((c) => c.url.endsWith('/cancel')).length;
  const ops = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status']).where('payment_id', '=', paymentId).execute();
  const voids = ops.filter((o) => o.type === 'void').length;
  assert.ok(sent <= 2 && voids <= 2, `capture answered ${String(answered)}; cancels sent to Stripe: ${sent}, voids recorded: ${voids}`);
});
