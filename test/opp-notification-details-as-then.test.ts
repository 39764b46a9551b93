/**
 * A /v1 PAYMENT notification says what the status call said when the transaction changed. A capture
 * its PSP confirmed and later reported failed (Adyen's CAPTURE_FAILED, which may come in the same
 * batch as the CAPTURE) makes two notifications, the success and then the failure; the success one,
 * rendered by the webhook worker after the failure was recorded, carried the failure's
 * resultDetails beside its success code. Decrypted with the README's receiver.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { admin, closeServer, freePort, listen, loopbackAllow } from './support/webhooks.ts';
import { createReceiver, type Notification } from '../examples/webhooks/opp-receiver.ts';

let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
after(() => gw.close());

test('the success notification of a capture its PSP later reported failed carries the success\'s resultDetails, not the failure\'s', async () => {
  const port = await freePort();
  const ep = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'opp', url: `http://127.0.0.1:${port}/n` });
  assert.equal(ep.status, 201);
  const got: Notification[] = [];
  const server = createReceiver(ep.body.secret, (n) => { got.push(n); });
  await listen(server, port);
  try {
    const pa = await opp(gw, 'POST', '/v1/payments', { amount: '100.00', currency: 'EUR', paymentType: 'PA', ...testCard });
    const cp = await opp(gw, 'POST', `/v1/payments/${pa.body.id}`, { amount: '100.00', currency: 'EUR', paymentType: 'CP' });
    assert.equal(cp.body.result.code, '000.100.110');
    const whenCaptured = (await opp(gw, 'GET', `/v1/payments/${cp.body.id}`)).body;
    // The scheme rejects the capture (as the Adyen connector reports CAPTURE_FAILED) before the worker's next pass.
    const attempt = await gw.app.storage.db.selectFrom('attempts').select('id').where('transaction_id', '=', cp.body.id).executeTakeFirstOrThrow();
    const failed = { kind: 'declined' as const, reason: 'provider_error' as const, acquirerCode: 'CAPTURE_FAILED', message: 'Capture Failed', pspReference: 'QFQTPCQ8HXSKGK82', details: { eventCode: 'CAPTURE_FAILED', RestReleased: 'true' } };
    assert.equal(await gw.app.payments.settleFromPsp('default', attempt.id, failed, { reverses: true }), true);
    for (let i = 0; i < 4; i++) await gw.app.webhooks.runOnce();
    const ofCapture = got.filter((n) => n.type === 'PAYMENT' && n.payload.id === cp.body.id);
    assert.deepEqual(ofCapture.map((n) => n.payload.result.code), ['000.100.110', '900.100.100'], 'success, then the failure');
    assert.deepEqual(ofCapture[0]!.payload.resultDetails, whenCaptured.resultDetails,
      `the success notification tells the later failure's details beside 000.100.110: ${JSON.stringify(ofCapture[0]!.payload.resultDetails)}`);
  } finally {
    await closeServer(server);
  }
});
