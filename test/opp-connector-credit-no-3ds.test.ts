/**
 * A credit (`CD`) through an OPP-family acquirer that runs 3-D Secure itself is never challenged,
 * whatever the card or the merchant's return URL (docs/compatibility.md, "Credits (CD)"). It was
 * sent the gateway's return address, so the acquirer challenged the card and the credit stayed
 * pending behind a 3-D Secure redirect.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { challengedPa, startOppFake, oppFakeCredentials, type OppFake } from './support/fake-psps/opp.ts';

let fake: OppFake;
let gw: Gateway;
before(async () => {
  fake = await startOppFake();
  gw = await startGateway();
});
after(async () => { await gw?.close(); await fake?.close(); });

test('a CD with a challenge card and a shopperResultUrl at an OPP acquirer credits at once: no shopperResultUrl sent, no redirect, no pending', async () => {
  await configureCascade(gw, { acq: { connector: 'opp', settings: { baseUrl: fake.url, ...oppFakeCredentials } } }, ['acq']);
  const r = await opp(gw, 'POST', '/v1/payments', { ...challengedPa('50.00'), paymentType: 'CD' });
  const sent = fake.transactions.at(-1)!;
  assert.equal(sent.paymentType, 'CD');
  assert.equal(sent.payment?.returnUrl, undefined, 'the gateway asked the acquirer to run 3-D Secure on a credit (shopperResultUrl sent)');
  assert.equal(r.body.redirect, undefined, 'a credit answered with a 3-D Secure redirect');
  assert.equal(r.body.result.code, '000.100.110', JSON.stringify(r.body.result));
  assert.equal((await gw.app.payments.details(r.body.id))?.payment.status, 'credited');
});

test('a CD with a registration and a shopperResultUrl at an OPP acquirer is not sent through the acquirer\'s 3-D Secure either', async () => {
  const { amount: _a, currency: _c, paymentType: _t, shopperResultUrl: _u, ...card } = challengedPa('1.00');
  const reg = await opp(gw, 'POST', '/v1/registrations', card);
  assert.ok(reg.body.id, JSON.stringify(reg.body));
  const r = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'CD', shopperResultUrl: 'https://shop.example/back' });
  const sent = fake.transactions.at(-1)!;
  assert.equal(sent.paymentType, 'CD');
  assert.equal(sent.payment?.returnUrl, undefined, 'the gateway asked the acquirer to run 3-D Secure on a credit (shopperResultUrl sent)');
  assert.equal(r.body.redirect, undefined, 'a credit answered with a 3-D Secure redirect');
  assert.equal(r.body.result.code, '000.100.110', JSON.stringify(r.body.result));
});
