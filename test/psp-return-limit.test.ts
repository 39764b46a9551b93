/**
 * The PSP return address `/hosted/psp-return/{paymentId}/{attemptId}` takes no credential: for a
 * payment's first attempt it is `/hosted/psp-return/{id}/{id}`, known to whoever knows the payment
 * id (the shopper, anyone the shop's result URL leaked to). A return may call the merchant's PSP
 * under the merchant's own key; unbounded, a stranger turned each anonymous request into one,
 * spending the merchant's PSP allowance (an OPP-family acquirer allows two status calls a minute per
 * payment) that its real payments need. So: a return that names none of the PSP's payments asks
 * nothing, an expired attempt is asked about (by returns that name it) until the PSP says how it
 * ended, then once per ten minutes, and one source address has five returns per attempt a minute.
 * None of it may cost the shopper their own return.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { challengedPa, passAcquirerChallenge, startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { adyenFakeCredentials, redirectedPa } from './support/fake-psps/adyen.ts';
import { startScriptedAdyen } from './support/fake-psps/scripted-adyen.ts';
import { pspProxy, type PspProxy } from './support/psp-proxy.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { fetchPage } from './support/shopper.ts';

// The first details call is lost on the way back; the others answer.
const flakyAdyen = () => startScriptedAdyen((n, state) => (n === 1 ? 'drop'
  : { pspReference: 'ADYOK0000000001', merchantReference: state.reference, resultCode: 'Authorised', amount: { value: 5000, currency: 'EUR' } }));

const clock = manualClock(Date.now());
let fake: OppFake;
let proxy: PspProxy;
let adyen: Awaited<ReturnType<typeof flakyAdyen>>;
let gw: Gateway;
before(async () => {
  [fake, adyen] = await Promise.all([startOppFake(), flakyAdyen()]);
  proxy = await pspProxy(fake.url);
  gw = await startGateway({ clock });
});
after(async () => { await gw?.close(); await proxy?.close(); await fake?.close(); await adyen?.close(); });

const viaAcquirer = () => configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['acq']);
const statusCalls = () => proxy.calls.filter((c) => c.method === 'GET').length;
const hop = async (url: string) => {
  const r = await fetch(url, { redirect: 'manual' });
  await r.arrayBuffer();
  return { status: r.status, location: r.headers.get('location') ?? undefined, retryAfter: r.headers.get('retry-after') };
};

test('anonymous GETs of an expired payment\'s PSP return address do not each make a call to the acquirer', async () => {
  await viaAcquirer();
  const r = await opp(gw, 'POST', '/v1/payments', challengedPa('13.00'));
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  clock.advance(4 * 3600_000);
  await gw.app.payments.expireAwaiting();
  await gw.app.payments.idle();
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.deepEqual([d.operations[0]!.status, d.operations[0]!.reason], ['failed', 'expired']);
  const url = `${gw.url}/hosted/psp-return/${r.body.id}/${r.body.id}`;
  const before = statusCalls();
  const answers: number[] = [];
  for (let i = 0; i < 20; i++) answers.push((await hop(url)).status);
  await gw.app.payments.idle();
  const made = statusCalls() - before;
  assert.equal(made, 0, `20 anonymous requests to a payment expired hours ago made ${made} status calls to the acquirer under the merchant's key`);
  assert.deepEqual([answers.filter((s) => s === 303).length, answers.filter((s) => s === 429).length], [5, 15], 'five returns a minute from one address');
  const refused = await hop(url);
  assert.ok(Number(refused.retryAfter) >= 1);
  // A minute on, a return is taken again.
  clock.advance(60_000);
  assert.equal((await hop(url)).status, 303);
});

test('requests naming none of the acquirer\'s payments ask nothing and leave the shopper\'s own return to finish the payment', async () => {
  await viaAcquirer();
  const r = await opp(gw, 'POST', '/v1/payments', challengedPa('43.00'));
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  const before = statusCalls();
  for (const forged of ['', '?id=8ac7a4a1000000000000000000000099', '?resourcePath=/v1/payments/other']) {
    await hop(`${gw.url}/hosted/psp-return/${r.body.id}/${r.body.id}${forged}`);
  }
  assert.equal(statusCalls() - before, 0, 'the acquirer was asked about returns that named none of its payments');
  assert.equal((await gw.app.payments.details(r.body.id))!.operations[0]!.status, 'awaiting');
  // The shopper opens their challenge, passes it, and the acquirer sends them back.
  const form = new URLSearchParams((r.body.redirect.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
  const page = await fetchPage(r.body.redirect.url, { method: 'POST', body: form });
  await page.arrayBuffer();
  assert.equal(page.status, 200);
  const { returnUrl } = await passAcquirerChallenge(fake);
  const back = await hop(returnUrl);
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.equal(back.status, 303, `the shopper's own return, with the acquirer's result, was answered ${back.status} (payment ${d.operations[0]!.status})`);
  assert.equal(d.operations[0]!.status, 'succeeded');
});

test('Adyen: one empty return, then the shopper\'s return whose details call was lost, then their reload: the reload finishes the payment', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const r = await opp(gw, 'POST', '/v1/payments', redirectedPa);
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  const bare = adyen.state.returnUrls.at(-1)!;
  // A prefetch (or anyone who knows the payment id) reaches the return without Adyen's result.
  await hop(bare);
  // The shopper is back with Adyen's redirectResult; the details call's answer is lost.
  const genuine = `${bare}?redirectResult=X3XtfGC9%21H4sIAAAAAAAA`;
  assert.equal((await hop(genuine)).status, 303);
  // Their reload is the one chance left (Adyen cannot be asked, the result is only in their browser).
  const reload = await hop(genuine);
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.equal(reload.status, 303, `the shopper's reload was answered ${reload.status}; payment ${d.operations[0]!.status}, details called ${adyen.state.detailsCalls}x`);
  assert.equal(d.operations[0]!.status, 'succeeded');
});

test('a stranger\'s bare request to an expired attempt\'s return asks nothing, and the shopper\'s real late return finds the charge the acquirer made after the gateway gave up', async () => {
  await viaAcquirer();
  const r = await opp(gw, 'POST', '/v1/payments', { ...challengedPa('27.00'), paymentType: 'DB' });
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  // The shopper opens the acquirer's challenge, then dawdles past the gateway's expiry.
  const form = new URLSearchParams((r.body.redirect.parameters as { name: string; value: string }[]).map((p) => [p.name, p.value]));
  const page = await fetchPage(r.body.redirect.url, { method: 'POST', body: form });
  await page.arrayBuffer();
  clock.advance(4 * 3600_000);
  await gw.app.payments.expireAwaiting();
  await gw.app.payments.idle();
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.deepEqual([d.operations[0]!.status, d.operations[0]!.reason], ['failed', 'expired']);
  // A stranger (or a link scanner) who knows the payment id reaches its first attempt's return, naming nothing.
  const before = statusCalls();
  assert.equal((await hop(`${gw.url}/hosted/psp-return/${r.body.id}/${r.body.id}`)).status, 303);
  await gw.app.payments.idle();
  assert.equal(statusCalls() - before, 0, 'the stranger\'s bare return asked the acquirer');
  // A minute later the shopper passes the challenge; the acquirer charges the card and sends them back.
  clock.advance(60_000);
  const { transaction, returnUrl } = await passAcquirerChallenge(fake);
  assert.equal(transaction.code, '000.100.110');
  assert.equal((await hop(returnUrl)).status, 303);
  await gw.app.payments.idle();
  const late = await gw.app.storage.db.selectFrom('late_approvals').selectAll().where('attempt_id', '=', r.body.id).execute();
  assert.equal(late.length, 1, 'the sale the acquirer made after the gateway expired the payment was not found');
});

test('returns naming no attempt that has a PSP return write nothing: the count is kept only for a real one', async () => {
  await viaAcquirer();
  const hits = async () => Number((await gw.app.storage.db.selectFrom('rate_hits').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const challenged = await opp(gw, 'POST', '/v1/payments', challengedPa('17.00'));
  assert.equal(challenged.body.result.code, '000.200.000', JSON.stringify(challenged.body));
  // A payment that never went to a PSP's own 3-D Secure (paid at once, no shopper to send back).
  await configureCascade(gw, {}, []);
  const direct = await opp(gw, 'POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA', 'card.number': '4200000000000000', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123' });
  assert.equal(direct.body.result.code, '000.100.110', JSON.stringify(direct.body));
  const random = () => Array.from({ length: 32 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
  const before = await hits();
  const strangers = [
    ...Array.from({ length: 10 }, () => `${random()}/${random()}`),
    `${challenged.body.id}/${random()}`,
    `${direct.body.id}/${direct.body.id}`,
  ];
  for (const path of strangers) {
    const r = await hop(`${gw.url}/hosted/psp-return/${path}`);
    assert.equal(r.status, 404, path);
  }
  assert.equal(await hits() - before, 0, 'each anonymous request naming no PSP return wrote a rate-limit row into the store (a durable write per request, for anyone)');
  // The real return is still counted, and still limited.
  const own = `${gw.url}/hosted/psp-return/${challenged.body.id}/${challenged.body.id}`;
  const answers: number[] = [];
  for (let i = 0; i < 6; i++) answers.push((await hop(own)).status);
  assert.equal(answers.filter((s) => s === 429).length, 1, answers.join(','));
  assert.equal(await hits() - before, 5, 'the five returns taken are counted (a refused one is not)');
});
