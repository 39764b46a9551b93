/**
 * /v1 notifications say what the API said at the time. A REGISTRATION notification's payload is
 * the registration call's answer: its result (by mode, testMode=EXTERNAL included), the groups the
 * answer echoes and the envelope, so a receiver reads payload.result.code for every type alike; a
 * PENDING one sent late still says what the status call said while pending. Decrypted
 * independently, with node:crypto, as a receiver's sample code does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { createServer } from 'node:http';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { answer, openRedirect } from './support/shopper.ts';
import { admin, closeServer, freePort, listen, loopbackAllow, recordRequests } from './support/webhooks.ts';

function decryptWebhook(keyHex: string, ivHex: string, tagHex: string, bodyHex: string) {
  const d = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(ivHex, 'hex'));
  d.setAuthTag(Buffer.from(tagHex, 'hex'));
  return Buffer.concat([d.update(Buffer.from(bodyHex, 'hex')), d.final()]).toString('utf8');
}

let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
after(() => gw.close());

/** A /v1 listener of the merchant's on this machine: what it received, decrypted as a receiver's own code would. */
async function listener() {
  const port = await freePort();
  const ep = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/notify` });
  assert.equal(ep.status, 201);
  const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200); res.end('OK'); }); });
  const raw = recordRequests(server);
  await listen(server, port);
  return {
    received: () => raw.map((r) => JSON.parse(decryptWebhook(ep.body.secret, String(r.headers['x-initialization-vector']), String(r.headers['x-authentication-tag']), r.body))),
    close: () => closeServer(server),
  };
}

test('REGISTRATION CREATED / DELETED notifications carry the registration answer, result included', async () => {
  const receiver = await listener();
  try {
    const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, 'customer.email': 'jane@jones.com' });
    assert.equal(reg.status, 200);
    await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`);
    await gw.app.webhooks.runOnce();
    const got = receiver.received();
    const created = got.find((n) => n.type === 'REGISTRATION' && n.action === 'CREATED');
    const deleted = got.find((n) => n.type === 'REGISTRATION' && n.action === 'DELETED');
    assert.ok(created && deleted, JSON.stringify(got));
    // A receiver handling both PAYMENT and REGISTRATION reads payload.result.code the same way.
    assert.deepEqual(created.payload.result, reg.body.result, `CREATED payload: ${JSON.stringify(created.payload)}`);
    // The API response's fields, as for PAYMENT payloads (ndc differs per message).
    for (const k of ['id', 'paymentBrand', 'card', 'customer', 'buildNumber', 'timestamp', 'ndc']) {
      assert.ok(k in created.payload, `CREATED payload lacks ${k} that the registration answer has`);
    }
    assert.ok(deleted.payload.result?.code, `DELETED payload has no result: ${JSON.stringify(deleted.payload)}`);
  } finally {
    await receiver.close();
  }
});

test('testMode=EXTERNAL: a registration answers 000.100.112 like the payments it is then used for, and so does its notification', async () => {
  const connectorTest = { code: '000.100.112', description: "Request successfully processed in 'Merchant in Connector Test Mode'" };
  const receiver = await listener();
  try {
    const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, testMode: 'EXTERNAL' });
    assert.equal(reg.status, 200);
    assert.deepEqual(reg.body.result, connectorTest);
    const paid = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', testMode: 'EXTERNAL' });
    assert.deepEqual(paid.body.result, connectorTest);
    // A renewed expiry sent with a payment updates the registration in the payment's test mode.
    const renewed = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`,
      { amount: '5.00', currency: 'EUR', paymentType: 'DB', testMode: 'EXTERNAL', 'card.expiryMonth': '08', 'card.expiryYear': '2036' });
    assert.deepEqual(renewed.body.result, connectorTest);
    const removed = await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`, { testMode: 'EXTERNAL' });
    assert.deepEqual(removed.body.result, connectorTest);
    await gw.app.webhooks.runOnce();
    const got = receiver.received();
    const created = got.find((n) => n.type === 'REGISTRATION' && n.action === 'CREATED' && n.payload.id === reg.body.id);
    assert.deepEqual(created?.payload.result, connectorTest, JSON.stringify(got));
    const updated = got.find((n) => n.type === 'REGISTRATION' && n.action === 'UPDATED' && n.payload.id === reg.body.id);
    assert.deepEqual(updated?.payload.result, connectorTest, JSON.stringify(got));
  } finally {
    await receiver.close();
  }
});

test('a PENDING notification sent after the shopper finished the challenge says what the status call said while pending', async () => {
  const receiver = await listener();
  try {
    for (const [outcome, code] of [['completed', '000.100.110'], ['failed', '100.380.401']] as const) {
      const r = await opp(gw, 'POST', '/v1/payments', { amount: '92.00', currency: 'EUR', paymentType: 'DB', ...testCard, 'card.number': '4200000000000042', shopperResultUrl: 'https://shop.example/return' });
      assert.equal(r.body.result.code, '000.200.000');
      const whilePending = await opp(gw, 'GET', `/v1/payments/${r.body.id}`);
      // The shopper is quicker than the notification worker's next pass.
      await answer(await openRedirect(r.body.redirect), outcome);
      await gw.app.webhooks.runOnce();
      const got = receiver.received()
        .filter((n) => n.type === 'PAYMENT' && n.payload.id === r.body.id);
      const pending = got.find((n) => n.payload.result.code === '000.200.000');
      const final = got.find((n) => n.payload.result.code === code);
      assert.ok(pending && final, JSON.stringify(got.map((n) => n.payload.result.code)));
      assert.deepEqual(pending.payload.resultDetails, whilePending.body.resultDetails, outcome);
      assert.equal(pending.payload.threeDSecure?.eci, whilePending.body.threeDSecure?.eci, outcome);
      assert.notDeepEqual(final.payload.resultDetails, pending.payload.resultDetails, 'the final one carries the final answer');
    }
  } finally {
    await receiver.close();
  }
});

test('the PENDING notification of a first standing-instruction charge sent after its success carries no initialTransactionId; the final one does', async () => {
  const receiver = await listener();
  try {
    const r = await opp(gw, 'POST', '/v1/payments', {
      amount: '10.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/r',
      'standingInstruction.mode': 'INITIAL', 'standingInstruction.type': 'UNSCHEDULED', 'standingInstruction.source': 'CIT',
      ...testCard, 'card.number': '4200000000000042',
    });
    assert.equal(r.body.result.code, '000.200.000');
    assert.equal(r.body.standingInstruction.initialTransactionId, undefined);
    await answer(await openRedirect(r.body.redirect), 'completed');
    await gw.app.webhooks.runOnce();
    const got = receiver.received().filter((n) => n.type === 'PAYMENT' && n.payload.id === r.body.id);
    const pending = got.find((n) => n.payload.result.code === '000.200.000');
    const final = got.find((n) => n.payload.result.code === '000.100.110');
    assert.ok(pending && final, JSON.stringify(got.map((n) => n.payload.result.code)));
    assert.equal(pending.payload.standingInstruction.initialTransactionId, undefined, 'a pending result with the id later charges refer to');
    assert.ok(final.payload.standingInstruction.initialTransactionId);
  } finally {
    await receiver.close();
  }
});

test('a REGISTRATION CREATED payload holds only what the registration answer holds (plus the envelope)', async () => {
  const receiver = await listener();
  try {
    const reg = await opp(gw, 'POST', '/v1/registrations', {
      ...testCard, 'customer.email': 'jane@jones.com', 'shipping.city': 'Berlin',
      'threeDSecure.verificationId': 'AAACBllleHchZTBWIGV4MAAAAAA=', 'threeDSecure.eci': '05',
    });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    await gw.app.webhooks.runOnce();
    const got = receiver.received();
    const created = got.find((n) => n.type === 'REGISTRATION' && n.action === 'CREATED');
    assert.ok(created, JSON.stringify(got));
    const envelope = new Set(['buildNumber', 'timestamp', 'ndc']);
    const extra = Object.keys(created.payload).filter((k) => !envelope.has(k) && !(k in reg.body));
    assert.deepEqual(extra, [], `the notification carries groups the answer does not: ${JSON.stringify(Object.fromEntries(extra.map((k) => [k, created.payload[k]])))}; answer keys ${Object.keys(reg.body)}`);
  } finally {
    await receiver.close();
  }
});
