/**
 * PSP-run 3-D Secure (Adyen, which has no status API): the shopper is back with the PSP's
 * redirectResult, and the /payments/details call the gateway makes with it is lost (a connection
 * reset). The redirectResult exists only in the shopper's browser, so the shopper's reload of the
 * return is the one chance left to finish the payment; and a payment nobody can finish must end.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adyenFakeCredentials, redirectedPa } from './support/fake-psps/adyen.ts';
import { startScriptedAdyen } from './support/fake-psps/scripted-adyen.ts';
import { manualClock } from '../src/runtime/clock.ts';

// The first details call is lost on the way back (Adyen may or may not have it); the others answer.
const flakyAdyen = () => startScriptedAdyen((n, state) => (n === 1 ? 'drop'
  : { pspReference: 'ADYOK0000000001', merchantReference: state.reference, resultCode: 'Authorised', amount: { value: 5000, currency: 'EUR' } }));

const clock = manualClock(Date.now());
let adyen: Awaited<ReturnType<typeof flakyAdyen>>;
let gw: Gateway;
before(async () => { adyen = await flakyAdyen(); gw = await startGateway({ clock }); });
after(async () => { await gw?.close(); await adyen?.close(); });

test('the shopper\'s reload of the PSP return, after the first details call was lost, finishes the payment', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const r = await opp(gw, 'POST', '/v1/payments', redirectedPa);
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  const returnUrl = `${adyen.state.returnUrls.at(-1)!}?redirectResult=X3XtfGC9%21H4sIAAAAAAAA`;
  const first = await fetch(returnUrl, { redirect: 'manual' });
  assert.equal(first.status, 303);
  // The shopper reloads (or the merchant's page sends them back): same redirectResult.
  const again = await fetch(returnUrl, { redirect: 'manual' });
  assert.equal(again.status, 303);
  const d = (await gw.app.payments.details(r.body.id))!;
  const status = d.operations[0]!.status;
  assert.equal(adyen.state.detailsCalls, 2,
    `the reload was not used to finish the payment (details called ${adyen.state.detailsCalls}x; operation ${status}, attempt ${d.attempts[0]!.status}): the redirectResult is gone and Adyen cannot be asked`);
  assert.equal(status, 'succeeded');
});

test('a payment whose PSP return could not be finished, at a PSP without a status API, is not left open for ever', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['ady']);
  adyen.state.detailsCalls = 0;
  const r = await opp(gw, 'POST', '/v1/payments', redirectedPa);
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  await fetch(`${adyen.state.returnUrls.at(-1)!}?redirectResult=abc`, { redirect: 'manual' });
  // Two days on, no notification came (Adyen never got the details call): every sweep has run.
  for (let i = 0; i < 8; i++) {
    clock.advance(6 * 3600_000);
    await gw.app.payments.reconcile().catch(() => 0);
    await gw.app.payments.expireAwaiting();
    await gw.app.payments.idle();
  }
  const d = (await gw.app.payments.details(r.body.id))!;
  const status = await opp(gw, 'GET', `/v1/payments/${r.body.id}`, {});
  assert.ok(!['unknown', 'pending', 'awaiting'].includes(d.operations[0]!.status),
    `two days later the payment is still ${d.operations[0]!.status} (attempt ${d.attempts[0]!.status}); the merchant reads ${status.body.result?.code} ${status.body.result?.description}`);
});

test('a return that carries nothing from the PSP (a forged or prefetched GET of the return URL, whose ids are the payment\'s own) does not keep the shopper\'s real return from finishing the payment', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['ady']);
  adyen.state.detailsCalls = 1; // every details call answers from now on
  const r = await opp(gw, 'POST', '/v1/payments', redirectedPa);
  const returnUrl = adyen.state.returnUrls.at(-1)!;
  // The first attempt's id is the payment's: the return URL is /hosted/psp-return/{id}/{id}, known to anyone who knows the payment id.
  assert.equal(returnUrl.endsWith(`/hosted/psp-return/${r.body.id}/${r.body.id}`), true, returnUrl);
  await fetch(returnUrl, { redirect: 'manual' });
  const before = (await gw.app.payments.details(r.body.id))!.operations[0]!.status;
  await fetch(`${returnUrl}?redirectResult=genuine`, { redirect: 'manual' });
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.equal(d.operations[0]!.status, 'succeeded',
    `after an empty return the payment went ${before}, and the shopper's real return (with Adyen's redirectResult) was ignored: ${d.operations[0]!.status}, details called ${adyen.state.detailsCalls - 1}x`);
});
