/**
 * Adyen's /payments/details after the shopper's return from Adyen's own 3-D Secure. The return
 * address is /hosted/psp-return/{payment}/{attempt} (the first attempt's id is the payment's), so
 * whoever knows a payment's id can call it with any redirectResult. Each result is a details request
 * of its own (its own idempotency key: Adyen answers a key it has seen with that key's first answer),
 * and an error answer (a result Adyen cannot read, a call still in progress, 704) names no payment:
 * the attempt keeps awaiting the shopper's genuine return rather than ending declined.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { startAdyenFake, adyenFakeCredentials, type AdyenFake } from './support/fake-psps/adyen.ts';
import { suiteCards } from './support/fake-psps/bank.ts';
import { createAdyenConnector } from '../src/processors/adyen/connector.ts';
import { money, type Currency } from '../src/money/money.ts';

let adyen: AdyenFake;
let gw: Gateway;
before(async () => { adyen = await startAdyenFake(); gw = await startGateway(); });
after(async () => { await gw?.close(); adyen?.close(); });

const pay = () => opp(gw, 'POST', '/v1/payments', {
  amount: '50.00', currency: 'EUR', paymentType: 'PA', paymentBrand: 'VISA', 'card.number': suiteCards.challenge,
  'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123', shopperResultUrl: 'https://shop.example/back',
});

test('a return forged with a bogus redirectResult does not decline the payment, nor keep the shopper\'s genuine return from finishing it', async () => {
  await configureCascade(gw, { ady: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials } } }, ['ady']);
  const r = await pay();
  assert.equal(r.body.result.code, '000.200.000', JSON.stringify(r.body));
  const id: string = r.body.id;
  // Someone who knows the payment id (the merchant's page, a shared link) calls its return URL.
  await fetch(`${gw.url}/hosted/psp-return/${id}/${id}?redirectResult=forged`, { redirect: 'manual' });
  const afterForged = (await gw.app.payments.details(id))!;
  const forgedStatus = `${afterForged.operations[0]!.status} (attempt ${afterForged.attempts[0]!.status} ${afterForged.attempts[0]!.reason ?? ''})`;
  // The shopper passes Adyen's challenge and comes back with Adyen's genuine redirectResult.
  const atIssuer = (await gw.app.payments.details(id))!;
  const pspRef = atIssuer.attempts[0]!.pspReference;
  const challenge = [...adyen.bank.payments.values()].find((p: any) => p.attemptId === id) as any;
  assert.ok(challenge, `Adyen holds the payment (${pspRef})`);
  const atPsp = await fetch(`${adyen.url}/3ds/${challenge.id}`, { redirect: 'manual' });
  const back = atPsp.headers.get('location')!;
  assert.match(back, /redirectResult=/);
  await fetch(back, { redirect: 'manual' });
  await gw.app.payments.idle();
  const d = (await gw.app.payments.details(id))!;
  const detailsKeys = adyen.requests.filter((q) => q.path === '/payments/details').map((q) => (q.body as any).details.redirectResult);
  assert.equal(d.operations[0]!.status, 'succeeded',
    `after the forged return the payment was ${forgedStatus}; after the shopper's genuine return it is ${d.operations[0]!.status} (attempt ${d.attempts[0]!.status} ${d.attempts[0]!.reason ?? ''}); details bodies Adyen got: ${JSON.stringify(detailsKeys)}`);
});

test('the details call for a different redirectResult is not sent under the idempotency key of an earlier, different details call', async () => {
  const keys: { key: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      keys.push({ key: req.headers['idempotency-key'] as string | undefined, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 422, errorCode: '14_006', message: 'Invalid redirectResult', errorType: 'validation' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = createAdyenConnector({ baseUrl: url, ...adyenFakeCredentials }, 2000);
    const attemptId = 'a'.repeat(32);
    const amount = money(5000, 'EUR' as Currency);
    await c.complete!({ attemptId, amount, pspReference: undefined, parameters: { redirectResult: 'first' } }).catch(() => undefined);
    await c.complete!({ attemptId, amount, pspReference: undefined, parameters: { redirectResult: 'second' } }).catch(() => undefined);
    assert.equal(keys.length, 2);
    assert.notEqual(keys[0]!.key, keys[1]!.key, `two different details requests (${keys[0]!.body} / ${keys[1]!.body}) went under one Idempotency-Key ${keys[0]!.key}: Adyen answers the second with the first's result`);
  } finally { server.close(); }
});

test('a details call Adyen refuses with 422 (it names no payment) is not taken as the attempt\'s final decline', async () => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 422, errorCode: '704', message: 'request already processed or in progress', errorType: 'validation' })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = createAdyenConnector({ baseUrl: url, ...adyenFakeCredentials }, 2000);
    const outcome = await c.complete!({ attemptId: 'b'.repeat(32), amount: money(5000, 'EUR' as Currency), pspReference: undefined, parameters: { redirectResult: 'genuine' } })
      .then((o) => o, (err: Error) => ({ kind: 'thrown', message: err.message }));
    assert.notEqual((outcome as any).kind, 'declined',
      `a details call still in progress under the same key (a shopper's reload while the first call runs) settled the attempt: ${JSON.stringify(outcome)}`);
  } finally { server.close(); }
});
