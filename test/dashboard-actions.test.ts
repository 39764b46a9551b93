/**
 * The dashboard's money actions over HTTP: a confirmation carries a one-time key, so a double click
 * or a form sent again from the browser's history moves the money once; a confirmation without
 * its key moves nothing; a void releases the open authorization and never refunds a capture made
 * meanwhile.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { authorizeBody, authorizedExecution as authorizedExecutionAt, call, execution, instrument, poll, startAdyenMultiCapture, tokenOf, wf } from './support/executions.ts';
import { deliverAdyenNotifications } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { postForm, signIn as signInAs } from './support/dashboard.ts';
import { answer, openRedirect } from './support/shopper.ts';

const clock = manualClock(Date.now());

const password = 'a long test password';
let gw: Gateway;
before(async () => {
  gw = await startGateway({ clock });
  for (const [email, role] of [['admin@example.com', 'admin'], ['viewer@example.com', 'viewer']] as const) {
    assert.ok((await gw.app.dashboard.addUser({ email, role, merchantId: undefined, password })).ok);
  }
});
after(async () => { await gw?.close(); });

const signIn = (email: string) => signInAs(gw.url, email, password);
const post = (s: { cookie: string }, path: string, form: Record<string, string>) => postForm(gw.url, s, path, form);

/** The confirmation page the action's first form answers, and the one-time key it carries. */
async function confirmation(s: { cookie: string; csrf: string }, path: string, amount: string): Promise<Record<string, string>> {
  const r = await post(s, path, { _csrf: s.csrf, amount });
  assert.equal(r.status, 200);
  const key = /name="actionKey" value="([^"]+)"/.exec(await r.text())?.[1];
  assert.ok(key, 'the confirmation carries its key');
  return { _csrf: s.csrf, amount, confirmed: 'yes', actionKey: key };
}

test('a double-submitted refund confirmation (the same form posted twice) refunds once', async () => {
  const p = await pay(gw, { paymentType: 'DB', amount: '100.00', merchantTransactionId: 'order-double' });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const s = await signIn('admin@example.com');
  const form = await confirmation(s, `/dashboard/payments/${p.body.id}/refund`, '10.00');
  // The operator double-clicks "Yes, refund 10.00 EUR": the browser sends the one form twice.
  const [a, b] = await Promise.all([post(s, `/dashboard/payments/${p.body.id}/refund`, form), post(s, `/dashboard/payments/${p.body.id}/refund`, form)]);
  assert.equal(a.status, 303);
  assert.equal(b.status, 303);
  const d = (await gw.app.payments.details(p.body.id))!;
  const refunds = d.operations.filter((o) => o.kind === 'refund' && o.status !== 'failed');
  assert.equal(refunds.length, 1, `refunds made: ${refunds.map((o) => `${o.amount.amount} ${o.status}`).join(', ')}`);
});

test('sequentially re-posted confirmation (back button + resubmit) refunds once', async () => {
  const p = await pay(gw, { paymentType: 'DB', amount: '100.00', merchantTransactionId: 'order-double-2' });
  const s = await signIn('admin@example.com');
  const form = await confirmation(s, `/dashboard/payments/${p.body.id}/refund`, '10.00');
  const first = await post(s, `/dashboard/payments/${p.body.id}/refund`, form);
  const again = await post(s, `/dashboard/payments/${p.body.id}/refund`, form);
  assert.equal(again.headers.get('location'), first.headers.get('location'), 'the second sending shows the first one\'s result');
  // A confirmation without its key moves nothing.
  const keyless = await post(s, `/dashboard/payments/${p.body.id}/refund`, { _csrf: s.csrf, amount: '10.00', confirmed: 'yes' });
  assert.equal(keyless.status, 400);
  const d = (await gw.app.payments.details(p.body.id))!;
  const refunds = d.operations.filter((o) => o.kind === 'refund' && o.status !== 'failed');
  assert.equal(refunds.length, 1, `refunds made: ${refunds.map((o) => `${o.amount.amount} ${o.status}`).join(', ')}`);
});


/** An executions payment of 80.00 EUR, authorized, made by the merchant's backend. */
async function authorizedExecution(reference: string): Promise<{ token: string; exec: string }> {
  const token = await tokenOf(gw);
  const exec = await execution(gw, token, 'customer-1', reference);
  const ins = await instrument(gw, token, '4111111111111111');
  assert.equal((await call(gw, 'POST', `${wf}/${exec}/authorize`, { token, body: authorizeBody(ins, '80.00') })).status, 200);
  assert.equal((await poll(gw, token, exec, ['authorizeRequested', 'authorizePending'])).status, 'authorized');
  return { token, exec };
}

test('a void confirmed after the payment was captured meanwhile does not refund the capture', async () => {
  const { token, exec } = await authorizedExecution('order-void-race');
  const s = await signIn('admin@example.com');
  const paymentId = await execPayment(s, exec);
  // The operator opens the payment page and asks to void: it is offered (authorized, nothing captured).
  const page = await (await fetch(`${gw.url}/dashboard/payments/${paymentId}`, { headers: { cookie: s.cookie } })).text();
  assert.match(page, /\/void"/);
  const confirm = await confirmation(s, `/dashboard/payments/${paymentId}/void`, '');
  // Meanwhile the merchant's own backend captures the whole amount and the goods ship.
  assert.equal((await call(gw, 'POST', `${wf}/${exec}/capture`, { token, body: { amount: { value: '80.00', currency: 'EUR' }, final: true } })).status, 202);
  await poll(gw, token, exec, ['captureRequested']);
  // The operator confirms "Void the open authorization ... the held amount is released".
  const r = await post(s, `/dashboard/payments/${paymentId}/void`, confirm);
  assert.equal(r.status, 303);
  const d = (await gw.app.payments.details(paymentId))!;
  const refunds = d.operations.filter((o) => o.kind === 'refund' && o.status !== 'failed');
  assert.deepEqual(refunds.map((o) => o.amount.amount), [], `a "void" refunded the captured money: ${r.headers.get('location')}`);
  assert.match(r.headers.get('location') ?? '', /refused=reversal_after_capture/, 'the gateway says why nothing was voided');
});

async function execPayment(s: { cookie: string }, exec: string): Promise<string> {
  const list = await (await fetch(`${gw.url}/dashboard/payments?q=${exec}`, { headers: { cookie: s.cookie } })).text();
  return /\/dashboard\/payments\/([0-9a-f]{32})/.exec(list)![1]!;
}

test('a dashboard void of an authorized executions payment: the execution is cancelled, as the merchant\'s own cancel would show', async () => {
  const { token, exec } = await authorizedExecution('order-void-plain');
  const s = await signIn('admin@example.com');
  const paymentId = await execPayment(s, exec);
  const confirm = await confirmation(s, `/dashboard/payments/${paymentId}/void`, '');
  const r = await post(s, `/dashboard/payments/${paymentId}/void`, confirm);
  assert.equal(r.status, 303);
  const d = (await gw.app.payments.details(paymentId))!;
  assert.ok(d.operations.some((o) => o.kind === 'void' && o.status === 'succeeded'), 'the authorization was voided');
  const view = await call(gw, 'GET', `${wf}/${exec}`, { token });
  // The authorization is gone at the PSP; the merchant's view must not still say it can be captured.
  assert.equal(view.body.status, 'cancelled', `execution after the dashboard void: ${JSON.stringify({ status: view.body.status, history: view.body.history })}`);
});

test('a dashboard void of a partly captured executions payment is refused: its dialect has no void of the rest, and its cancel would refund', async () => {
  const { token, exec } = await authorizedExecution('order-void-partial');
  assert.equal((await call(gw, 'POST', `${wf}/${exec}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
  assert.equal((await poll(gw, token, exec, ['captureRequested'])).status, 'partiallyCaptured');
  const before = (await call(gw, 'GET', `${wf}/${exec}`, { token })).body;
  const s = await signIn('admin@example.com');
  const paymentId = await execPayment(s, exec);
  const confirm = await confirmation(s, `/dashboard/payments/${paymentId}/void`, '');
  const r = await post(s, `/dashboard/payments/${paymentId}/void`, confirm);
  assert.equal(r.status, 303);
  assert.match(r.headers.get('location') ?? '', /refused=reversal_after_capture/, 'an executions payment has no void of the rest: refused');
  const d = (await gw.app.payments.details(paymentId))!;
  assert.equal(d.operations.some((o) => o.kind === 'void' || o.kind === 'refund'), false, 'nothing released, nothing refunded');
  assert.equal((await call(gw, 'POST', `${wf}/${exec}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' }, final: true } })).status, 202, 'the rest is still the merchant\'s to capture');
  const page = await (await fetch(`${gw.url}/dashboard/payments/${paymentId}`, { headers: { cookie: s.cookie } })).text();
  assert.doesNotMatch(page, /\/void"/, 'and no void is offered');
});

test('an executions payment with a capture still at its PSP offers no second Capture: its dialect refuses one until the first ends', async () => {
  const { gw: adyenGw, adyen, token } = await startAdyenMultiCapture();
  try {
    assert.ok((await adyenGw.app.dashboard.addUser({ email: 'ops@example.com', role: 'admin', merchantId: undefined, password })).ok);
    const s = await signInAs(adyenGw.url, 'ops@example.com', password);
    const { id: exec, paymentId } = await authorizedExecutionAt(adyenGw, token, 'order-capture-at-psp', suiteCards.approved, '50.00');
    await deliverAdyenNotifications(adyenGw, adyen);
    const pageOf = async () => (await fetch(`${adyenGw.url}/dashboard/payments/${paymentId}`, { headers: { cookie: s.cookie } })).text();
    assert.match(await pageOf(), /\/capture"/, 'an authorized execution offers Capture');
    // Adyen answers a capture `received`; it stays at the PSP until its CAPTURE notification.
    assert.equal((await call(adyenGw, 'POST', `${wf}/${exec}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
    await adyenGw.app.payments.idle();
    assert.equal((await call(adyenGw, 'GET', `${wf}/${exec}`, { token })).body.status, 'captureRequested');
    assert.equal((await call(adyenGw, 'POST', `${wf}/${exec}/capture`, { token, body: { amount: { value: '10.00', currency: 'EUR' } } })).status, 422, 'the dialect refuses a capture while one runs');
    assert.doesNotMatch(await pageOf(), /\/capture"/, 'no Capture offered that the dialect refuses');
    await deliverAdyenNotifications(adyenGw, adyen);
    assert.equal((await call(adyenGw, 'GET', `${wf}/${exec}`, { token })).body.status, 'partiallyCaptured');
    assert.match(await pageOf(), /\/capture"/, 'once the first capture ended, the rest is offered again');
  } finally {
    await Promise.all([adyenGw.close(), adyen.close()]);
  }
});

test('a payment charged back shows what the chargeback took beside what was captured and refunded', async () => {
  const p = await pay(gw, { paymentType: 'DB', amount: '100.00', merchantTransactionId: 'order-charged-back' });
  const s = await signIn('viewer@example.com');
  const pageOf = async () => (await fetch(`${gw.url}/dashboard/payments/${p.body.id}`, { headers: { cookie: s.cookie } })).text();
  assert.doesNotMatch(await pageOf(), /Charged back/, 'nothing charged back yet: no line for it');
  const cb = await opp(gw, 'POST', `/v1/payments/${p.body.id}`, { paymentType: 'CB', amount: '20.00', currency: 'EUR' });
  assert.equal(cb.body.result.code, '000.100.110');
  assert.match(await pageOf(), /<dt>Charged back<\/dt><dd>20\.00 EUR<\/dd>/);
  assert.equal((await opp(gw, 'POST', `/v1/payments/${cb.body.id}`, { paymentType: 'CR', amount: '20.00', currency: 'EUR' })).body.result.code, '000.100.110');
  assert.doesNotMatch(await pageOf(), /Charged back/, 'its reversal gave it back');
});

test('a failure after the refund was made (the audit write) does not free the key: the same confirmation sent again later refunds nothing more', async () => {
  const p = await pay(gw, { paymentType: 'DB', amount: '100.00', merchantTransactionId: 'order-key-abandoned' });
  assert.equal(p.status, 200, JSON.stringify(p.body));
  const s = await signIn('admin@example.com');
  const form = await confirmation(s, `/dashboard/payments/${p.body.id}/refund`, '10.00');
  const auth = gw.app.dashboard as unknown as { audit: (...a: unknown[]) => Promise<unknown> };
  const realAudit = auth.audit;
  // The refund is made; then the audit row cannot be written (a database hiccup): the operator sees an error page.
  auth.audit = async (...a: unknown[]) => {
    if ((a[1] as { outcome: string }).outcome === 'ok') throw new Error('database connection lost');
    return realAudit.apply(auth, a);
  };
  const first = await post(s, `/dashboard/payments/${p.body.id}/refund`, form);
  auth.audit = realAudit;
  assert.equal(first.status >= 500, true, `first sending answered ${first.status}`);
  // Some minutes later the operator, unsure, sends the confirmation again from the browser's history.
  clock.advance(6 * 60_000);
  const again = await post(s, `/dashboard/payments/${p.body.id}/refund`, form);
  assert.equal(again.status, 303);
  const d = (await gw.app.payments.details(p.body.id))!;
  const refunds = d.operations.filter((o) => o.kind === 'refund' && o.status !== 'failed');
  assert.equal(refunds.length, 1, `one confirmation refunded ${refunds.map((o) => `${o.amount.amount} ${o.status}`).join(', ')}`);
});

test('a refund of an executions payment made in parts (wider than any one capture) is told and audited as the amount it gave back', async () => {
  const s = await signIn('admin@example.com');
  const token = await tokenOf(gw);
  const inst = await instrument(gw, token, '4111111111111111', 'holder-parts');
  const id = await execution(gw, token, 'holder-parts');
  assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '80.00') })).status, 200);
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '30.00', currency: 'EUR' }, final: false } })).status, 202);
  await poll(gw, token, id, ['captureRequested']);
  assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '50.00', currency: 'EUR' }, final: true } })).status, 202);
  assert.equal((await poll(gw, token, id, ['captureRequested'])).status, 'captured');
  const paymentId = e.paymentComposition[0].paymentId;
  const r = await post(s, `/dashboard/payments/${paymentId}/refund`, await confirmation(s, `/dashboard/payments/${paymentId}/refund`, '80.00'));
  assert.equal(r.status, 303);
  assert.deepEqual((await call(gw, 'GET', `${wf}/${id}`, { token })).body.refundedAmount, { value: '80.00', currency: 'EUR' }, 'the engine gave back 80.00, in two refunds');
  const result = await (await fetch(`${gw.url}${r.headers.get('location')}`, { headers: { cookie: s.cookie } })).text();
  assert.match(result, /Refund succeeded \(80\.00 EUR\)\./, 'the result page names its last part only');
  const entry = (await gw.app.dashboard.auditLog({ merchantId: undefined, before: undefined, limit: 20 })).find((a) => a.action === 'payment.refund' && a.subject === paymentId);
  assert.equal((entry?.detail.operationIds as string[] | undefined)?.length, 2, JSON.stringify(entry));
});

test('a bank transfer whose receipt confirmed part of it offers a refund of that part only, as the engine would take', async () => {
  const db = await opp(gw, 'POST', '/v1/payments', {
    amount: '120.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'SOFORTUEBERWEISUNG', 'bankAccount.country': 'DE',
    'bankAccount.bankName': 'Testbank', shopperResultUrl: 'https://shop.example/result',
  });
  await answer(await openRedirect(db.body.redirect), 'completed');
  const rc = await opp(gw, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RC', amount: '60.00', currency: 'EUR' });
  assert.match(rc.body.result.code, /^000\./, JSON.stringify(rc.body.result));
  const s = await signIn('admin@example.com');
  const page = await (await fetch(`${gw.url}/dashboard/payments/${db.body.id}`, { headers: { cookie: s.cookie } })).text();
  assert.match(page, /Refund amount \(EUR, at most 60\.00\)/, 'the refund offered is what the bank confirmed');
});
