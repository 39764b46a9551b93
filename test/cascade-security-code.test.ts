/**
 * What the next PSP of a cascade gets when the cascade moves on outside the first call (after the
 * first PSP's own 3-D Secure, or the reconciler finding a lost answer declined): the card with its
 * security code, held sealed for it and taken by it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, postgresAvailable, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { adyenFakeCredentials, startScriptedAdyen } from './support/fake-psps/adyen.ts';


let a: Awaited<ReturnType<typeof startScriptedAdyen>>;
let b: Awaited<ReturnType<typeof startScriptedAdyen>>;
let gw: Gateway;
let token: string;
before(async () => { [a, b] = await Promise.all([startScriptedAdyen('challenge'), startScriptedAdyen('approve')]); gw = await startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '1500', SWITCHYARD_PSP_TIMEOUT_MS: '300' } }); token = await tokenOf(gw); });
after(async () => { await gw?.close(); await Promise.all([a?.close(), b?.close()]); });

const cardPayment = (number = '4111111111111111') => ({
  amount: '50.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': number,
  'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
});
const adyenAt = (psp: { url: string }) => ({ connector: 'adyen', settings: { baseUrl: psp.url, ...adyenFakeCredentials } });
const backFrom = async (psp: Awaited<ReturnType<typeof startScriptedAdyen>>) => (await fetch(`${psp.state.returnUrls.at(-1)!}?redirectResult=passed`, { redirect: 'manual' })).text();

test('after the first PSP\'s own 3-D Secure and its soft decline, the next PSP gets the card\'s security code too', async () => {
  await configureCascade(gw, { adyenA: adyenAt(a), adyenB: adyenAt(b) }, ['adyenA', 'adyenB'], ['soft', 'error']);
  const r = await opp(gw, 'POST', '/v1/payments', cardPayment());
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

test('three accounts, the first two running their own 3-D Secure and declining softly: the third PSP gets the security code too', async () => {
  const [second, third] = await Promise.all([startScriptedAdyen('challenge'), startScriptedAdyen('approve')]);
  try {
    await configureCascade(gw, { adyenA: adyenAt(a), adyenSecond: adyenAt(second), adyenThird: adyenAt(third) }, ['adyenA', 'adyenSecond', 'adyenThird'], ['soft', 'error']);
    const r = await opp(gw, 'POST', '/v1/payments', cardPayment());
    assert.ok(r.body.redirect?.url, JSON.stringify(r.body));
    await backFrom(a);
    assert.equal(second.state.bodies.find((x) => x.path === '/payments')?.body.paymentMethod?.cvc, '123', 'the second PSP got the code');
    assert.ok(second.state.returnUrls.length > 0, 'the second PSP ran its own 3-D Secure');
    await backFrom(second);
    await gw.app.payments.idle();
    const d = (await gw.app.payments.details(r.body.id))!;
    assert.deepEqual(d.attempts.map((x) => [x.accountName, x.status]), [['adyenA', 'failed'], ['adyenSecond', 'failed'], ['adyenThird', 'succeeded']]);
    const sent = third.state.bodies.find((x) => x.path === '/payments')?.body;
    assert.equal(sent?.paymentMethod?.cvc, '123', `the third PSP was sent the card without its security code: ${JSON.stringify(Object.keys(sent?.paymentMethod ?? {}))}`);
  } finally {
    await Promise.all([second.close(), third.close()]);
  }
});

test('/v1 after the engine\'s own challenge: the first answer lost and found soft-declined by the reconciler, the next PSP gets the security code', async () => {
  const next = await startScriptedAdyen('approve');
  try {
    await configureCascade(gw, {
      simLost3ds: { declines: [{ cardSuffixes: ['0042'], category: 'soft' }], timeouts: [{ cardSuffixes: ['0042'] }] },
      adyenNext: adyenAt(next),
    }, ['simLost3ds', 'adyenNext'], ['soft', 'error']);
    const r = await opp(gw, 'POST', '/v1/payments', cardPayment('4200000000000042'));
    assert.ok(r.body.redirect?.url, JSON.stringify(r.body));
    assert.equal((await gw.app.payments.details(r.body.id))!.operations[0]!.status, 'awaiting', 'the engine challenges the card');
    await gw.app.payments.completeChallenge(r.body.id, 'completed');
    await gw.app.payments.idle();
    await new Promise((res) => setTimeout(res, 700)); // older than twice the PSP timeout
    await gw.app.payments.reconcile();
    await gw.app.payments.idle();
    const d = (await gw.app.payments.details(r.body.id))!;
    assert.deepEqual(d.attempts.map((x) => [x.accountName, x.status]), [['simLost3ds', 'failed'], ['adyenNext', 'succeeded']]);
    const sent = next.state.bodies.find((x) => x.path === '/payments')?.body;
    assert.equal(sent?.paymentMethod?.cvc, '123', `the next PSP was sent the card without its security code: ${JSON.stringify(Object.keys(sent?.paymentMethod ?? {}))}`);
  } finally {
    await next.close();
  }
});

describe('a held security code is erased when the payment ends without the next account (PostgreSQL, where holds are rows)', { skip: (await postgresAvailable()) ? undefined : 'no PostgreSQL' }, () => {
  let pgw: Gateway;
  let next: Awaited<ReturnType<typeof startScriptedAdyen>>;
  before(async () => { next = await startScriptedAdyen('approve'); pgw = await startGateway({ store: 'postgres', env: { SWITCHYARD_PSP_TIMEOUT_MS: '300' } }); });
  after(async () => { await pgw?.close(); await next?.close(); });
  const heldFor = async (paymentId: string) => (await pgw.app.storage.db.selectFrom('cvv_holds').select('key').where('key', '=', paymentId).execute()).length;

  for (const outcome of ['approve', 'hard'] as const) {
    test(`the first PSP's own 3-D Secure ends the payment (${outcome === 'approve' ? 'approved' : 'a hard decline, nothing to move on to'}): no security code stays held`, async () => {
      const first = await startScriptedAdyen('challenge', outcome);
      try {
        await configureCascade(pgw, { [`adyenFirst${outcome}`]: adyenAt(first), adyenNext: adyenAt(next) }, [`adyenFirst${outcome}`, 'adyenNext'], ['soft', 'error']);
        const r = await opp(pgw, 'POST', '/v1/payments', cardPayment());
        assert.ok(r.body.redirect?.url, JSON.stringify(r.body));
        assert.equal(await heldFor(r.body.id), 1, 'held while the cascade may still move on');
        await backFrom(first);
        await pgw.app.payments.idle();
        const d = (await pgw.app.payments.details(r.body.id))!;
        assert.equal(d.attempts.length, 1, JSON.stringify(d.attempts));
        assert.equal(d.operations[0]!.status, outcome === 'approve' ? 'succeeded' : 'failed');
        assert.equal(await heldFor(r.body.id), 0, 'the payment ended: its sealed security code is no longer held');
      } finally {
        await first.close();
      }
    });
  }
});
