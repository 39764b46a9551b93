/**
 * What the next PSP of a cascade gets when the cascade moves on outside the first call (after the
 * first PSP's own 3-D Secure, or the reconciler finding a lost answer declined): the card with its
 * security code, held sealed for it and taken by it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { adyenFakeCredentials, startScriptedAdyen } from './support/fake-psps/adyen.ts';


let a: Awaited<ReturnType<typeof startScriptedAdyen>>;
let b: Awaited<ReturnType<typeof startScriptedAdyen>>;
let gw: Gateway;
let token: string;
before(async () => { [a, b] = await Promise.all([startScriptedAdyen('challenge'), startScriptedAdyen('approve')]); gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '1500', SWITCHYARD_PSP_TIMEOUT_MS: '300' } }); token = await tokenOf(gw); });
after(async () => { await gw?.close(); await Promise.all([a?.close(), b?.close()]); });

test('after the first PSP\'s own 3-D Secure and its soft decline, the next PSP gets the card\'s security code too', async () => {
  await configureCascade(gw, {
    adyenA: { connector: 'adyen', settings: { baseUrl: a.url, ...adyenFakeCredentials } },
    adyenB: { connector: 'adyen', settings: { baseUrl: b.url, ...adyenFakeCredentials } },
  }, ['adyenA', 'adyenB'], ['soft', 'error']);
  const r = await opp(gw, 'POST', '/v1/payments', {
    amount: '50.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': '4111111111111111',
    'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
  });
  assert.ok(r.body.redirect?.url, JSON.stringify(r.body));
  assert.equal(a.state.bodies.find((x) => x.path === '/payments')?.body.paymentMethod?.cvc, '123', 'the first PSP got the code');
  const back = await fetch(`${a.state.returnUrls.at(-1)!}?redirectResult=passed`, { redirect: 'manual' });
  await back.text();
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.deepEqual(d.attempts.map((x) => [x.accountName, x.status]), [['adyenA', 'failed'], ['adyenB', 'succeeded']]);
  const sentToB = b.state.bodies.find((x) => x.path === '/payments')?.body;
  assert.equal(sentToB?.paymentMethod?.cvc, '123', `the next PSP was sent the card without its security code: ${JSON.stringify(Object.keys(sentToB?.paymentMethod ?? {}))}`);
});

test('a first attempt whose answer was lost, found soft-declined by the reconciler, leaves the next PSP the security code', async () => {
  await configureCascade(gw, {
    simLost: { declines: [{ cardSuffixes: ['1111'], category: 'soft' }], timeouts: [{ cardSuffixes: ['1111'] }] },
    adyenB: { connector: 'adyen', settings: { baseUrl: b.url, ...adyenFakeCredentials } },
  }, ['simLost', 'adyenB'], ['soft', 'error']);
  b.state.bodies.length = 0;
  const inst = await instrument(gw, token, '4111111111111111', 'c-lost');
  const id = await execution(gw, token, 'c-lost');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'unknown', JSON.stringify(e.statusHistory));
  await new Promise((r) => setTimeout(r, 700)); // older than twice the PSP timeout
  await gw.app.payments.reconcile();
  await gw.app.payments.idle();
  const after = await poll(gw, token, id, ['unknown', 'authorizeRequested']);
  assert.deepEqual(after.paymentComposition[0].attempts.map((x: any) => [x.pspAccount, x.status]), [['simLost', 'failed'], ['adyenB', 'succeeded']]);
  const sentToB = b.state.bodies.find((x) => x.path === '/payments')?.body;
  assert.equal(sentToB?.paymentMethod?.cvc, '737', `the next PSP was sent the card without its security code: ${JSON.stringify(Object.keys(sentToB?.paymentMethod ?? {}))}`);
});
