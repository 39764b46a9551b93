/**
 * An OPP-family acquirer answering a refund with its long pending (`800.400.502`, "waiting for
 * confirmation of non-instant refund", which may change after days) has accepted it: ended
 * `expired` past SWITCHYARD_ASYNC_TIMEOUT_MS, its amount would be free to be refunded again, and the
 * acquirer's later confirmation would pay the shopper back twice. It stays pending, asked again on
 * its backoff, until the acquirer says how it ended; whether it lasts follows the acquirer's latest
 * pending code, also when a later status call fails. Its half-hour pending still times out.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { signIn } from './support/dashboard.ts';
import { runCli } from './support/process.ts';
import { oppFakeCredentials, startOppFake, type OppFake } from './support/fake-psps/opp.ts';
import { pspProxy, type PspProxy, type Routing } from './support/psp-proxy.ts';

const clock = manualClock(Date.now());
let acquirer: OppFake;
let proxy: PspProxy;
let gw: Gateway;
/** The refund's first answer; what its status call says now ('throttled': a 429). */
let firstCode = '000.200.000';
let statusCode = '800.400.502';
let loseAnswer = false;
let refundAttempt = '';
const refundId = '8ac7a4a1' + 'd'.repeat(24);
const refundAt = (merchantTransactionId: string, code: string) => ({
  id: refundId, paymentType: 'RF', amount: '20.00', currency: 'EUR', merchantTransactionId, result: { code, description: 'x' },
});
before(async () => {
  [acquirer, gw] = await Promise.all([startOppFake(), startGateway({ clock })]);
  proxy = await pspProxy(acquirer.url, (c): Routing => {
    const form = new URLSearchParams(c.body);
    if (c.method === 'POST' && form.get('paymentType') === 'RF') {
      refundAttempt = form.get('merchantTransactionId')!;
      if (loseAnswer) return { answer: { status: 502, json: { error: 'bad gateway' } } };
      return { answer: { status: 200, json: refundAt(refundAttempt, firstCode) } };
    }
    if (c.method === 'GET' && refundAttempt !== '' && c.url.includes(refundAttempt)) {
      if (statusCode === 'throttled') return { answer: { status: 429, json: { result: { code: '800.120.100', description: 'Too many requests. Please try again later.' } } } };
      return { answer: { status: 200, json: { result: { code: '000.000.100', description: 'successful request' }, payments: [refundAt(refundAttempt, statusCode)] } } };
    }
    return {};
  });
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['acq']);
});
after(async () => { await Promise.all([gw?.close(), acquirer?.close(), proxy?.close()]); });

async function refund(): Promise<{ debitId: string; refundOpId: string }> {
  const debit = await opp(gw, 'POST', '/v1/payments', { amount: '50.00', currency: 'EUR', paymentType: 'DB', ...testCard });
  assert.match(debit.body.result.code, /^000\.100\.11/, JSON.stringify(debit.body));
  const r = await opp(gw, 'POST', `/v1/payments/${debit.body.id}`, { paymentType: 'RF', amount: '20.00', currency: 'EUR' });
  await gw.app.payments.idle();
  return { debitId: debit.body.id, refundOpId: r.body.id };
}

async function passAfter(minutes: number): Promise<void> {
  clock.advance(minutes * 60_000);
  await gw.app.payments.reconcile().catch(() => undefined);
  await gw.app.payments.idle();
}

test('a refund the acquirer holds as a long pending is not ended past the async timeout: its amount cannot be refunded twice', async () => {
  firstCode = '800.400.502';
  statusCode = '800.400.502';
  loseAnswer = false;
  const { debitId, refundOpId } = await refund();
  for (const minutes of [2, 40, 120]) await passAfter(minutes);
  const held = await opp(gw, 'GET', `/v1/query/${refundOpId}`);
  assert.notEqual(held.body.result.code, '100.396.103', `the refund was ended as expired: ${JSON.stringify(held.body.result)}`);
  // 30.00 is all that may still be refunded while the 20.00 stands at the acquirer.
  const more = await opp(gw, 'POST', `/v1/payments/${debitId}`, { paymentType: 'RF', amount: '40.00', currency: 'EUR' });
  assert.equal(more.body.result.code, '700.400.200', JSON.stringify(more.body));
});

test('a refund the acquirer moved from its half-hour to its long pending is not ended when a later status call fails', async () => {
  firstCode = '000.200.000';
  statusCode = '800.400.502';
  loseAnswer = false;
  const { debitId, refundOpId } = await refund();
  await passAfter(2);
  await passAfter(40);
  statusCode = 'throttled';
  await passAfter(11);
  const held = await opp(gw, 'GET', `/v1/query/${refundOpId}`);
  assert.notEqual(held.body.result.code, '100.396.103', `the refund the acquirer holds was ended as expired: ${JSON.stringify(held.body.result)}`);
  const more = await opp(gw, 'POST', `/v1/payments/${debitId}`, { paymentType: 'RF', amount: '40.00', currency: 'EUR' });
  assert.equal(more.body.result.code, '700.400.200', JSON.stringify(more.body));
});

test('a refund whose answer was lost and whose status call found the long pending lasts past a failing status call', async () => {
  statusCode = '800.400.502';
  loseAnswer = true;
  const { refundOpId } = await refund();
  await passAfter(2);
  await passAfter(40);
  statusCode = 'throttled';
  await passAfter(11);
  const held = await opp(gw, 'GET', `/v1/query/${refundOpId}`);
  assert.notEqual(held.body.result.code, '100.396.103', JSON.stringify(held.body.result));
});

test('the half-hour pending of a refund still ends at the timeout', async () => {
  firstCode = '000.200.000';
  statusCode = '000.200.000';
  loseAnswer = false;
  const { refundOpId } = await refund();
  await passAfter(2);
  await passAfter(40);
  await passAfter(11);
  const held = await opp(gw, 'GET', `/v1/query/${refundOpId}`);
  assert.equal(held.body.result.code, '100.396.103', JSON.stringify(held.body.result));
});

test('an operator sees the refunds an acquirer holds pending: the overview counts them, and the dashboard, the admin API and the CLI list their payments', async () => {
  firstCode = '800.400.502';
  statusCode = '800.400.502';
  loseAnswer = false;
  const { debitId } = await refund();
  await passAfter(2);
  const plain = await opp(gw, 'POST', '/v1/payments', { amount: '5.00', currency: 'EUR', paymentType: 'DB', ...testCard });
  assert.match(plain.body.result.code, /^000\.100\.11/, JSON.stringify(plain.body));

  const password = 'a long test password';
  assert.ok((await gw.app.dashboard.addUser({ email: 'ops@example.com', role: 'admin', merchantId: undefined, password })).ok);
  const s = await signIn(gw.url, 'ops@example.com', password);
  const get = async (path: string) => (await fetch(`${gw.url}${path}`, { headers: { cookie: s.cookie } })).text();
  const overview = await get('/dashboard');
  const figure = Number(/Pending at a PSP<\/div><div class="figure">(\d+)<\/div>/.exec(overview)?.[1]);
  const href = /<a href="([^"]*)">payments with one<\/a>/.exec(overview)![1]!.replaceAll('&amp;', '&');
  const list = await get(href);
  const listed = new Set([...list.matchAll(/\/dashboard\/payments\/([0-9a-f]{32})"/g)].map((m) => m[1]));
  assert.ok(listed.has(debitId), `the payment whose refund the acquirer holds is listed (${href})`);
  assert.ok(!listed.has(plain.body.id), 'a payment with nothing pending is not');
  assert.equal(figure, listed.size, `the overview's figure (${figure}) counts what its link lists (${listed.size})`);

  const api = await fetch(`${gw.url}/admin/api/payments?outcome=pending`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
  assert.equal(api.status, 200);
  const found = (await api.json() as { payments: { id: string; status: string }[] }).payments;
  assert.deepEqual(new Set(found.map((p) => p.id)), listed);
  const cli = runCli(gw.dataDir, 'payments', 'list', '--outcome', 'pending', '--json');
  assert.equal(cli.status, 0, cli.stderr);
  assert.deepEqual(new Set((JSON.parse(cli.stdout) as { payments: { id: string }[] }).payments.map((p) => p.id)), listed);
  const bad = await fetch(`${gw.url}/admin/api/payments?outcome=held`, { headers: { authorization: `Bearer ${gw.app.admin.token}` } });
  assert.equal(bad.status, 400);
});
