/**
 * The shopper back from the PSP's own 3-D Secure, the PSP authorizing on that return, and the unit
 * of work writing its answer failing (the database lost): the shopper goes on to the shop, the
 * payment in doubt, not to an error page.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { startScriptedAdyen } from './support/fake-psps/scripted-adyen.ts';

let failNext = false;
const scripted = () => startScriptedAdyen((_n, state) => {
  failNext = true; // the PSP has authorized: the next unit of work (writing that) loses the database
  return { pspReference: `ADY${Date.now()}`, merchantReference: state.reference, resultCode: 'Authorised', amount: { value: 5000, currency: 'EUR' } };
});
let adyen: Awaited<ReturnType<typeof scripted>>;
let gw: Gateway;
before(async () => {
  adyen = await scripted();
  gw = await startGateway();
  const uow = gw.app.storage.uow as { run: (fn: (tx: any) => Promise<unknown>, o?: unknown) => Promise<unknown> };
  const run = uow.run.bind(uow);
  uow.run = (fn, o) => {
    if (!failNext) return run(fn, o);
    failNext = false;
    return Promise.reject(new Error('Connection terminated unexpectedly'));
  };
});
after(async () => { await gw?.close(); await adyen?.close(); });

test('/v1: the shopper back from the PSP\'s own 3-D Secure, the PSP\'s authorization not written, is sent on to the shop (not a 500 page)', async () => {
  await configureCascade(gw, { adyen3ds: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['adyen3ds'], ['soft']);
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '50.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA', 'card.number': '4200000000000000',
    'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
  });
  assert.ok(r.body.redirect?.url, JSON.stringify(r.body));
  const back = await fetch(`${adyen.state.returnUrls.at(-1)!}?redirectResult=passed`, { redirect: 'manual' });
  const html = await back.text();
  assert.equal(adyen.state.detailsCalls, 1, 'the PSP was asked (and authorized)');
  assert.equal(back.status, 303, `the shopper got ${back.status}: ${/<title>([^<]*)/.exec(html)?.[1]}`);
  assert.match(back.headers.get('location') ?? '', /^https:\/\/shop\.example\/back/);
});
