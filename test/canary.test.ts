import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, postgresAvailable, startGateway, tempDir } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';
import { closeServer, freePort, listen, loopbackAllow, recordRequests } from './support/webhooks.ts';
import { createReceiver } from '../examples/webhooks/opp-receiver.ts';
import { answer, openRedirect } from './support/shopper.ts';
import { assertNoCardData, assertNoCardDataInFiles, assertNoCardDataInRows, newCanary, type Canary } from './support/canary.ts';
import { PayrailsCSE } from '@payrails/web-cse';

let canary: Canary = newCanary();

/** Pays with the canary card through every path that touches card data; returns all response bodies. */
async function exercise(gw: { url: string; merchant: any }): Promise<string[]> {
  const pan = canary.pan;
  const card = { paymentBrand: 'VISA', 'card.number': pan, 'card.holder': 'Canary Bird', 'card.expiryMonth': '12', 'card.expiryYear': '2031', 'card.cvv': canary.cvv };
  const bodies: string[] = [];
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, string>) => {
    const r = await opp(gw, method, path, params);
    bodies.push(JSON.stringify(r.body));
    return r;
  };
  const pa = await call('POST', '/v1/payments', { ...card, amount: '40.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: 'canary' });
  assert.equal(pa.body.result.code, '000.100.110');
  await call('POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '40.00', currency: 'EUR' });
  await call('POST', `/v1/payments/${pa.body.id}`, { paymentType: 'RB', amount: '5.00', currency: 'EUR' });
  await call('POST', `/v1/payments/${pa.body.id}`, { paymentType: 'RF', amount: '5.00', currency: 'EUR' });
  await call('GET', `/v1/payments/${pa.body.id}`, {});
  await call('GET', '/v1/query', { merchantTransactionId: 'canary' });
  // Through a 3-D Secure challenge: the page, the held CVV and the later authorization.
  const challenged = await call('POST', '/v1/payments', {
    ...card, amount: '12.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: 'canary',
    'customParameters[3DS2_enrolled]': 'true', shopperResultUrl: 'https://shop.example/result',
  });
  assert.equal(challenged.body.result.code, '000.200.000');
  const page = await openRedirect(challenged.body.redirect);
  bodies.push(page.html);
  await answer(page, 'completed');
  const done = await call('GET', `/v1/query/${challenged.body.id}`, {});
  assert.equal(done.body.result.code, '000.100.110');
  // Registrations: stored, paid with, made with a payment, deleted.
  const reg = await call('POST', '/v1/registrations', { ...card });
  assert.equal(reg.body.result.code, '000.100.110');
  await call('POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '3.00', currency: 'EUR', paymentType: 'DB', 'card.cvv': canary.cvv });
  await call('POST', '/v1/payments', { ...card, amount: '2.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true' });
  await call('DELETE', `/v1/registrations/${reg.body.id}`, {});
  // Refused requests must not echo the card either.
  await call('POST', '/v1/payments', { ...card, 'card.expiryYear': '2020', amount: '1.00', currency: 'EUR', paymentType: 'DB' });
  await call('POST', '/v1/payments', { ...card, 'card.cvv': '12', amount: '1.00', currency: 'EUR', paymentType: 'DB' });
  await call('POST', '/v1/payments', { ...card, paymentBrand: 'MASTER', amount: '1.00', currency: 'EUR', paymentType: 'DB' });
  await call('POST', '/v1/payments', { ...card, amount: 'x', currency: 'EUR', paymentType: 'DB' });
  bodies.push(...await exerciseInstruments(gw, pan));
  return bodies;
}

/** The executions dialect's card paths: a server-side instrument, browser tokenization (JWE) and authorizations. */
async function exerciseInstruments(gw: { url: string; merchant: any }, pan: string): Promise<string[]> {
  const bodies: string[] = [];
  const tokenRes = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': gw.merchant.apiKey } });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const json = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(gw.url + path, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-idempotency-key': crypto.randomUUID() },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    bodies.push(text);
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  };
  const cardData = { cardNumber: pan, expiryMonth: '12', expiryYear: '31', securityCode: canary.cvv, holderName: 'Canary Bird' };
  const server = await json('POST', '/payment/instruments', { holderReference: 'canary', paymentMethod: 'card', storeInstrument: true, data: cardData });
  assert.equal(server.status, 201);
  await json('GET', `/payment/instruments/${server.body.id}`);
  await json('POST', '/payment/instruments', { holderReference: 'canary', data: { ...cardData, expiryMonth: '13' } });
  const init = await json('POST', '/merchant/client/init', { holderReference: 'canary', merchantReference: 'canary-order' });
  const tokenized = await PayrailsCSE.init(init.body).tokenize(cardData, { storeInstrument: false });
  bodies.push(await tokenized.clone().text());
  assert.equal(tokenized.status, 201);
  const instrumentIds = [server.body.id, ((await tokenized.json()) as { id: string }).id];
  for (const instrumentId of instrumentIds) {
    const e = await json('POST', '/merchant/workflows/payment-acceptance/executions', { merchantReference: 'canary', holderReference: 'canary' });
    const value = { value: '9.00', currency: 'EUR' };
    await json('POST', `/merchant/workflows/payment-acceptance/executions/${e.body.id}/authorize`, {
      amount: value, returnInfo: { success: 'https://shop.example/return' },
      paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: value, paymentInstrumentId: instrumentId }],
    });
    const done = await json('GET', `/merchant/workflows/payment-acceptance/executions/${e.body.id}?waitWhile[status]=${encodeURIComponent('["created","authorizeRequested"]')}`);
    assert.equal(done.body.status, 'authorized');
  }
  return bodies;
}

test('canary card on the embedded store: not in logs, responses, SQLite files or WAL', async () => {
  canary = newCanary();
  const dataDir = tempDir();
  try {
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, LOG_LEVEL: 'debug' });
    const bodies = await exercise({ url: proc.url, merchant: demoCredentials(dataDir) });
    // Scan while the WAL still holds the pages, then again after a clean shutdown checkpoints it.
    const scanFiles = () => assertNoCardDataInFiles(canary, dataDir);
    scanFiles();
    await proc.stop('SIGTERM');
    scanFiles();
    for (const b of bodies) assertNoCardData(canary, 'a response', b);
    const logs = proc.output();
    assert.ok(logs.includes('"level"'), 'the gateway did log');
    assertNoCardData(canary, 'the logs', logs);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('canary card on PostgreSQL: not in any row of any table, nor in logs or responses', async (t) => {
  if (!(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
  canary = newCanary();
  const gw = await startGateway({ store: 'postgres', env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
  // A /v1 listener, so the notifications (stored rendered, sent encrypted) are scanned too.
  const port = await freePort();
  const listener = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/` });
  assert.ok(listener.ok);
  const notifications: string[] = [];
  const receiver = createReceiver(listener.value.secret, (n) => { notifications.push(JSON.stringify(n)); });
  const raw = recordRequests(receiver);
  await listen(receiver, port);
  try {
    const bodies = await exercise(gw);
    await gw.app.webhooks.runOnce();
    assert.ok(notifications.filter((n) => n.includes('"PAYMENT"')).length >= 4, 'the payments were notified');
    for (const n of notifications) assertNoCardData(canary, 'a webhook notification', n);
    for (const r of raw) assertNoCardData(canary, 'a webhook request', JSON.stringify(r));
    for (const b of bodies) assertNoCardData(canary, 'a response', b);
    assertNoCardData(canary, 'the logs', gw.logs.join(''));
    await assertNoCardDataInRows(canary, gw.app.storage.db);
  } finally {
    await closeServer(receiver);
    await gw.close();
  }
});
