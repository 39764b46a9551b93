/**
 * A PSP that echoes the card number in its free text (decline message, details): masked before the gateway keeps, answers, notifies or logs any of it.
 * One that writes it into its 3-D Secure redirect: the redirect is stored sealed and reaches the shopper through the gateway's own page, never the merchant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { opp, postgresAvailable, startGateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, poll, tokenOf, wf } from './support/executions.ts';
import { closeServer, freePort, listen, loopbackAllow, recordRequests } from './support/webhooks.ts';
import { createReceiver } from '../examples/webhooks/opp-receiver.ts';
import { assertNoCardData, assertNoCardDataInFiles, assertNoCardDataInRows, newCanary } from './support/canary.ts';

/** An OPP-family acquirer answering each payment with `answer(the card number it was sent)`. */
function acquirerAnswering(answer: (pan: string) => Record<string, unknown>) {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const pan = new URLSearchParams(body).get('card.number') ?? '';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `8ac7a4a1${Math.random().toString(16).slice(2, 18)}`, ...answer(pan) }));
    });
  });
}

/** One that declines and, like some real ones, echoes the card number in its free text. */
const echoingAcquirer = () => acquirerAnswering((pan) => ({
  result: { code: '800.100.151', description: `transaction declined (invalid card ${pan})` },
  resultDetails: { ExtendedDescription: `Card ${pan} refused by issuer`, AcquirerResponse: `05 ${pan}` },
}));

/** One that runs 3-D Secure itself and writes the card number into its redirect (URL and a form parameter). */
const redirectingAcquirer = () => acquirerAnswering((pan) => ({
  result: { code: '000.200.000', description: 'transaction pending' },
  redirect: { url: `https://acs.example/challenge?card=${pan}`, method: 'POST', parameters: [{ name: 'cardNumber', value: pan }, { name: 'MD', value: 'x' }] },
}));

for (const store of ['sqlite', 'postgres'] as const) {
  test(`a PSP echoing the card number in its decline: not stored, answered, notified or logged (${store})`, async (t) => {
    if (store === 'postgres' && !(await postgresAvailable())) { t.skip('no PostgreSQL'); return; }
    const canary = newCanary();
    const psp = echoingAcquirer();
    const port = await freePort();
    await listen(psp, port);
    const gw = await startGateway({ store, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
    try {
      const hookPort = await freePort();
      const listener = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${hookPort}/` });
      assert.ok(listener.ok);
      const notifications: string[] = [];
      const receiver = createReceiver(listener.value.secret, (n) => { notifications.push(JSON.stringify(n)); });
      recordRequests(receiver);
      await listen(receiver, hookPort);
      t.after(() => closeServer(receiver));
      await configureCascade(gw, { echo: { connector: 'opp', settings: { baseUrl: `http://127.0.0.1:${port}`, accessToken: 'x'.repeat(32), entityId: '8a8294174b7ecb28014b9699220015ca' } } }, ['echo']);
      const token = await tokenOf(gw);
      const bodies: string[] = [];
      const inst = await call(gw, 'POST', '/payment/instruments', { token, body: { holderReference: 'h', paymentMethod: 'card', data: { cardNumber: canary.pan, expiryMonth: '03', expiryYear: '31', securityCode: canary.cvv, holderName: 'C B' } } });
      assert.equal(inst.status, 201, JSON.stringify(inst.body));
      const id = await execution(gw, token, 'h');
      const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst.body.id, '10.00') });
      bodies.push(JSON.stringify(ack.body));
      const done = await poll(gw, token, id, ['created', 'authorizeRequested']);
      bodies.push(JSON.stringify(done));
      assert.equal(done.status, 'authorizeFailed', JSON.stringify(done));
      // /v1 on the same merchant through the same account
      const v1 = await opp(gw, 'POST', '/v1/payments', { paymentBrand: 'VISA', 'card.number': canary.pan, 'card.holder': 'C B', 'card.expiryMonth': '03', 'card.expiryYear': '2031', 'card.cvv': canary.cvv, amount: '3.00', currency: 'EUR', paymentType: 'DB' });
      bodies.push(JSON.stringify(v1.body));
      if (v1.body.id) bodies.push(JSON.stringify((await opp(gw, 'GET', `/v1/query/${v1.body.id}`, {})).body));
      await gw.app.webhooks.runOnce();
      const leaks: string[] = [];
      assert.ok(notifications.length >= 1, 'notified');
      for (const n of notifications) if (n.includes(canary.pan)) leaks.push(`webhook: ${n.slice(0, 120)}…`);
      const check = async (what: string, f: () => unknown) => { try { await f(); } catch (e) { leaks.push(`${what}: ${(e as Error).message}`); } };
      for (const b of bodies) if (b.includes(canary.pan)) leaks.push(`response: ${b.slice(Math.max(0, b.indexOf(canary.pan) - 200), b.indexOf(canary.pan) + 60)}`);
      await check('logs', () => assertNoCardData(canary, 'the logs', gw.logs.join('')));
      for (const l of gw.logs) if (l.includes(canary.pan)) leaks.push(`log: ${l.slice(0, 300)}`);
      await check('store', () => store === 'postgres' ? assertNoCardDataInRows(canary, gw.app.storage.db) : assertNoCardDataInFiles(canary, gw.dataDir));
      assert.deepEqual(leaks, []);
    } finally {
      await gw.close();
      await closeServer(psp);
    }
  });
}

test('a PSP echoing the card number in its 3-D Secure redirect: not stored in plain text nor answered (/v1)', async () => {
  const canary = newCanary();
  const psp = redirectingAcquirer();
  const port = await freePort();
  await listen(psp, port);
  const gw = await startGateway();
  try {
    await configureCascade(gw, { echo: { connector: 'opp', settings: { baseUrl: `http://127.0.0.1:${port}`, accessToken: 'x'.repeat(32), entityId: '8a8294174b7ecb28014b9699220015ca' } } }, ['echo']);
    const v1 = await opp(gw, 'POST', '/v1/payments', { paymentBrand: 'VISA', 'card.number': canary.pan, 'card.holder': 'C B', 'card.expiryMonth': '03', 'card.expiryYear': '2031', 'card.cvv': canary.cvv, amount: '3.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/r' });
    assert.equal(v1.body.result.code, '000.200.000', JSON.stringify(v1.body));
    const leaks: string[] = [];
    try { assertNoCardDataInFiles(canary, gw.dataDir); } catch (e) { leaks.push(`store: ${(e as Error).message}`); }
    try { assertNoCardData(canary, 'the answer', JSON.stringify(v1.body)); } catch (e) { leaks.push(`answer: ${JSON.stringify(v1.body.redirect)}`); }
    assert.deepEqual(leaks, []);
    // The shopper still reaches the PSP's page as the PSP asked, through the gateway's own.
    const page = await fetch(v1.body.redirect.url, { method: 'POST', body: new URLSearchParams(v1.body.redirect.parameters.map((p: { name: string; value: string }) => [p.name, p.value])) });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /action="https:\/\/acs\.example\/challenge\?card=/);
  } finally {
    await gw.close();
    await closeServer(psp);
  }
});
