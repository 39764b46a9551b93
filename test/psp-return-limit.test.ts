/**
 * The PSP return address `/hosted/psp-return/{paymentId}/{attemptId}` takes no credential: for a
 * payment's first attempt it is `/hosted/psp-return/{id}/{id}`, known to whoever knows the payment
 * id (the shopper, anyone the shop's result URL leaked to). A return may make a call to the
 * merchant's PSP under the merchant's own key; unbounded, a stranger turned each anonymous request
 * into one, spending the merchant's PSP allowance (an OPP-family acquirer allows two status calls a
 * minute per payment) that its real payments need. Two returns a minute are taken per attempt.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { challengedPa, startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';
import { pspProxy, type PspProxy } from './support/psp-proxy.ts';
import { manualClock } from '../src/runtime/clock.ts';

const clock = manualClock(Date.now());
let fake: OppFake;
let proxy: PspProxy;
let gw: Gateway;
before(async () => {
  fake = await startOppFake();
  proxy = await pspProxy(fake.url);
  gw = await startGateway({ clock });
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: proxy.url, ...oppFakeCredentials } } }, ['acq']);
});
after(async () => { await gw?.close(); await proxy?.close(); await fake?.close(); });

const statusCalls = () => proxy.calls.filter((c) => c.method === 'GET').length;

test('anonymous GETs of an expired payment\'s PSP return address do not each make a call to the acquirer', async () => {
  const r = await opp(gw, 'POST', '/v1/payments', challengedPa('13.00'));
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  clock.advance(4 * 3600_000);
  await gw.app.payments.expireAwaiting();
  await gw.app.payments.idle();
  const d = (await gw.app.payments.details(r.body.id))!;
  assert.deepEqual([d.operations[0]!.status, d.operations[0]!.reason], ['failed', 'expired']);
  const url = `${gw.url}/hosted/psp-return/${r.body.id}/${r.body.id}`;
  const before = statusCalls();
  for (let i = 0; i < 20; i++) await (await fetch(url, { redirect: 'manual' })).arrayBuffer();
  await gw.app.payments.idle();
  const made = statusCalls() - before;
  assert.ok(made <= 2, `20 anonymous requests to a payment expired hours ago made ${made} status calls to the acquirer under the merchant's key`);
  const refused = await fetch(url, { redirect: 'manual' });
  await refused.arrayBuffer();
  assert.equal(refused.status, 429);
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  // A minute on, a return is taken again.
  clock.advance(60_000);
  const later = await fetch(url, { redirect: 'manual' });
  await later.arrayBuffer();
  assert.equal(later.status, 303);
});
