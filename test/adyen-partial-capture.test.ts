/**
 * Partial captures at Adyen, per the account's `multiplePartialCaptures` setting. Adyen's own
 * description of /payments/{paymentPspReference}/captures: "By default, any unclaimed amount after
 * a partial capture gets cancelled. This does not apply if you enabled multiple partial captures on
 * your account". Without it, the CAPTURE webhook that confirms a partial capture releases the rest
 * in the books (never before: Adyen's answer only says `received`), and a second capture is refused
 * by the engine. With it, the rest stays authorized and capturable, and a cancel (the expiry job's
 * void) releases what the captures left.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, configureCascade, tokenOf, wf } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, deliverAdyenNotifications, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { ledgerTotalsOf } from '../src/ledger/model.ts';
import { parseSettings } from '../src/processors/adyen/settings.ts';

const day = 86_400_000;

/** A gateway with one Adyen account (its setting as given) before a fake Adyen behaving the same. */
function adyenGateway(multiplePartialCaptures: boolean | undefined) {
  const clock = manualClock(Date.UTC(2026, 0, 5, 12));
  const s = { gw: undefined as unknown as Gateway, adyen: undefined as unknown as AdyenFake, token: '', clock };
  before(async () => {
    [s.adyen, s.gw] = await Promise.all([
      startAdyenFake({ multiplePartialCaptures: multiplePartialCaptures === true }),
      startGateway({ clock, env: { SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS: '7' } }),
    ]);
    const settings = { baseUrl: s.adyen.url, ...adyenFakeCredentials, ...(multiplePartialCaptures !== undefined ? { multiplePartialCaptures } : {}) };
    await configureCascade(s.gw, { adyen: { connector: 'adyen', settings } }, ['adyen']);
    s.token = await tokenOf(s.gw);
  });
  after(async () => { await Promise.all([s.gw?.close(), s.adyen?.close()]); });
  return s;
}

async function authorized(s: ReturnType<typeof adyenGateway>, holder: string) {
  const authorizedOne = await authorizedExecution(s.gw, s.token, holder, suiteCards.approved, '50.00');
  await deliver(s);
  return authorizedOne;
}

/** Posts what Adyen would have sent to the account's webhook endpoint, then waits for the work it started. */
const deliver = (s: ReturnType<typeof adyenGateway>) => deliverAdyenNotifications(s.gw, s.adyen);

const opsOf = async (gw: Gateway, paymentId: string) => (await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount'])
  .where('payment_id', '=', paymentId).orderBy('seq').execute()).map((o) => [o.type, o.status, Number(o.amount)]);

test('adyen settings: multiplePartialCaptures is a boolean, off unless set', () => {
  const base = { apiKey: adyenFakeCredentials.apiKey, merchantAccount: 'ShopECOM', hmacKey: adyenFakeCredentials.hmacKey };
  const off = parseSettings(base);
  assert.ok(off.ok && off.value.multiplePartialCaptures === false, JSON.stringify(off));
  const on = parseSettings({ ...base, multiplePartialCaptures: true });
  assert.ok(on.ok && on.value.multiplePartialCaptures === true, JSON.stringify(on));
  const bad = parseSettings({ ...base, multiplePartialCaptures: 'yes' });
  assert.ok(!bad.ok && /multiplePartialCaptures/.test(bad.error), JSON.stringify(bad));
});

describe('adyen: an account without multiple partial captures (Adyen\'s default)', () => {
  const s = adyenGateway(undefined);

  test('a partial capture confirmed by its CAPTURE webhook releases the rest in the books; a second capture is refused by the engine', async () => {
    const { gw, token, adyen } = s;
    const { id, paymentId } = await authorized(s, 'adyen-single-capture');
    const capture = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: false } });
    assert.equal(capture.status, 202, JSON.stringify(capture.body));
    await gw.app.payments.idle();
    // Adyen only said `received`: nothing is released before the capture is confirmed.
    assert.deepEqual(await opsOf(gw, paymentId), [['authorize', 'succeeded', 5000], ['capture', 'pending', 2000]]);
    assert.equal(ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId)).held, 5000);

    await deliver(s);
    assert.deepEqual(await opsOf(gw, paymentId), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000], ['void', 'succeeded', 3000]],
      'the rest Adyen cancelled with the partial capture stayed authorized in the books');
    const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
    assert.deepEqual([totals.captured, totals.held], [2000, 0]);
    assert.equal(await gw.app.ledger.verify(), undefined);
    // Adyen cancelled the rest itself: no cancel was sent for it.
    assert.equal(adyen.requests.filter((r) => r.path.endsWith('/cancels')).length, 0, 'a cancel was sent for a rest Adyen had already cancelled');

    const sent = adyen.requests.length;
    const again = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '10.00', currency: 'EUR' }, final: true } });
    assert.notEqual(again.status, 202, 'a second capture of a released hold was accepted');
    assert.equal(adyen.requests.length, sent, 'the second capture was sent to Adyen');
  });

  test('the rest Adyen released is released in the books even when a refund then stands on a capture the scheme rejected', async () => {
    const { gw, adyen } = s;
    const post = async (body: string) => {
      const r = await fetch(`${gw.url}/psp-notifications/${gw.merchant.merchantId}/adyen`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(r.status, 200);
      await gw.app.payments.idle();
    };
    const pa = await opp(gw, 'POST', '/v1/payments', { ...testCard, 'card.number': suiteCards.approved, amount: '50.00', currency: 'EUR', paymentType: 'PA' });
    assert.match(pa.body.result.code, /^000\./, JSON.stringify(pa.body.result));
    await deliver(s);
    const paymentId = pa.body.id as string;
    const earlier = adyen.confirmedCaptures().length;
    // Two captures sent together (/v1 takes a second beside the first): Adyen takes the first, and
    // cancels the rest with it, so it refuses the second.
    const captures = [];
    for (const amount of ['20.00', '10.00']) {
      const cp = await opp(gw, 'POST', `/v1/payments/${paymentId}`, { paymentType: 'CP', amount, currency: 'EUR' });
      assert.match(cp.body.result.code, /^000\./, JSON.stringify(cp.body.result));
      captures.push(cp.body.id as string);
    }
    await gw.app.payments.idle();
    const [firstCaptured, secondRefused] = adyen.takeNotifications();
    await post(firstCaptured!);
    // While the second capture is at Adyen, the merchant refunds part of the first.
    const rf = await opp(gw, 'POST', `/v1/payments/${captures[0]}`, { paymentType: 'RF', amount: '5.00', currency: 'EUR' });
    assert.match(rf.body.result.code, /^000\./, JSON.stringify(rf.body.result));
    await deliver(s);
    // The card scheme rejects the first capture; then the second capture's refusal arrives.
    adyen.failCapture(adyen.confirmedCaptures()[earlier]!);
    await deliver(s);
    await post(secondRefused!);
    const ops = await opsOf(gw, paymentId);
    assert.deepEqual(ops.filter(([type]) => type === 'void'), [['void', 'succeeded', 5000]], `Adyen released the rest, the books still hold it: ${JSON.stringify(ops)}`);
    assert.equal(ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId)).held, 0);
    assert.equal(await gw.app.ledger.verify(), undefined);
    assert.equal(adyen.requests.filter((r) => r.path.endsWith('/cancels')).length, 0, 'nothing was sent for it');
  });

  test('a capture Adyen received waits for its CAPTURE notification past the shopper\'s timeout: held up an hour, it still completes, and nothing is refunded', async () => {
    const { gw, adyen, clock } = s;
    const pa = await opp(gw, 'POST', '/v1/payments', { ...testCard, 'card.number': suiteCards.approved, amount: '40.00', currency: 'EUR', paymentType: 'PA' });
    assert.match(pa.body.result.code, /^000\./, JSON.stringify(pa.body.result));
    await deliver(s);
    const reversals = () => adyen.requests.filter((r) => r.path.endsWith('/refunds') || r.path.endsWith('/cancels')).length;
    const reversedBefore = reversals();
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '40.00', currency: 'EUR' });
    assert.match(cp.body.result.code, /^000\.200\./, 'Adyen only said received: pending');
    await gw.app.payments.idle();
    // Adyen's notification is held up (the endpoint refused its signature for an hour, say).
    const held = adyen.takeNotifications();
    for (let i = 0; i < 7; i++) {
      clock.advance(10 * 60_000);
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
    }
    assert.deepEqual((await opsOf(gw, pa.body.id)).at(-1), ['capture', 'pending', 4000], 'the capture Adyen received was ended before Adyen said how it ended');
    for (const body of held) adyen.outboxPush(body);
    await deliver(s);
    assert.deepEqual(await opsOf(gw, pa.body.id), [['authorize', 'succeeded', 4000], ['capture', 'succeeded', 4000]]);
    assert.equal(reversals(), reversedBefore, 'the capture was reversed');
    assert.equal((await opp(gw, 'GET', `/v1/query/${cp.body.id}`)).body.result.code.startsWith('000.'), true);
    assert.equal(await gw.app.ledger.verify(), undefined);
  });

  test('a capture whose notification never comes ends expired once the authorization\'s lifetime has passed', async () => {
    const { gw, adyen, clock } = s;
    const pa = await opp(gw, 'POST', '/v1/payments', { ...testCard, 'card.number': suiteCards.approved, amount: '12.00', currency: 'EUR', paymentType: 'PA' });
    await deliver(s);
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '12.00', currency: 'EUR' });
    assert.match(cp.body.result.code, /^000\.200\./);
    await gw.app.payments.idle();
    adyen.takeNotifications();
    for (const step of [day, 3 * day, 7 * day + 60_000]) {
      clock.advance(step - (clock.now() - Date.parse(cp.body.timestamp.replace(' ', 'T').replace(/\+0000$/, 'Z'))));
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
      const last = (await opsOf(gw, pa.body.id)).at(-1);
      assert.deepEqual(last, step < 7 * day ? ['capture', 'pending', 1200] : ['capture', 'failed', 1200], `after ${step / day} days`);
    }
    assert.equal((await opp(gw, 'GET', `/v1/query/${cp.body.id}`)).body.result.code, '100.396.103');
  });

  test('the fake Adyen cancels the rest with a partial capture: a later capture or cancel there fails', async () => {
    const { adyen } = s;
    const post = (path: string, body: unknown) => fetch(adyen.url + path, { method: 'POST', headers: { 'x-api-key': adyenFakeCredentials.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<any>);
    const auth = await post('/payments', { merchantAccount: adyenFakeCredentials.merchantAccount, amount: { value: 5000, currency: 'EUR' }, reference: 'f'.repeat(32), additionalData: { manualCapture: 'true' }, authenticationData: { attemptAuthentication: 'never' }, paymentMethod: { type: 'scheme', number: suiteCards.approved, expiryMonth: '03', expiryYear: '2030', cvc: '737' } });
    adyen.takeNotifications();
    for (const [path, amount] of [['captures', 2000], ['captures', 1000], ['cancels', undefined]] as const) {
      await post(`/payments/${auth.pspReference}/${path}`, { merchantAccount: adyenFakeCredentials.merchantAccount, reference: `${path}${String(amount)}`, ...(amount ? { amount: { value: amount, currency: 'EUR' } } : {}) });
    }
    const items = adyen.takeNotifications().map((b) => JSON.parse(b).notificationItems[0].NotificationRequestItem);
    assert.deepEqual(items.map((i) => [i.eventCode, i.success]), [['CAPTURE', 'true'], ['CAPTURE', 'false'], ['CANCELLATION', 'false']]);
  });
});

describe('adyen: an account with multiple partial captures', () => {
  const s = adyenGateway(true);

  test('partial captures leave the rest authorized; the expiry job\'s cancel releases what they left', async () => {
    const { gw, token, adyen, clock } = s;
    const { id, paymentId } = await authorized(s, 'adyen-multi-capture');
    for (const value of ['20.00', '10.00']) {
      const capture = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value, currency: 'EUR' }, final: false } });
      assert.equal(capture.status, 202, JSON.stringify(capture.body));
      await deliver(s);
    }
    assert.deepEqual(await opsOf(gw, paymentId), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000], ['capture', 'succeeded', 1000]]);
    assert.equal(ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId)).held, 2000);

    clock.advance(8 * day);
    await gw.app.payments.expireAuthorizations();
    await gw.app.payments.idle();
    assert.equal(adyen.requests.filter((r) => r.path.endsWith('/cancels')).length, 1, 'the expiry job sent no cancel');
    await deliver(s);
    assert.deepEqual(await opsOf(gw, paymentId), [['authorize', 'succeeded', 5000], ['capture', 'succeeded', 2000], ['capture', 'succeeded', 1000], ['void', 'succeeded', 2000]],
      'Adyen refused the cancel of what the partial captures left, and it stayed authorized in the books');
    const totals = ledgerTotalsOf(await gw.app.ledger.paymentPostings(paymentId));
    assert.deepEqual([totals.captured, totals.held], [3000, 0]);
    assert.equal(await gw.app.ledger.verify(), undefined);
  });
});
