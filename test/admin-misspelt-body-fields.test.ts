/**
 * Admin writes with a misspelt body field: the field is ignored and the write goes ahead on its
 * defaults, which are the widest ones. `{"dialcet":"opp"}` rotated BOTH dialects (the merchant's
 * executions API key and every access token issued under it ended, when only the /v1 token was
 * meant); `{"overlapHour":0}` on a leaked webhook secret kept the old secret signing for 24 hours;
 * `{"since":…, "merchant":…}` redelivered every merchant's failures. Each is now a 400 naming the
 * unknown field, and changes nothing (as PUT psp-accounts and PATCH workflows already answered
 * "unknown field(s): …").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { admin, freePort, loopbackAllow } from './support/webhooks.ts';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`misspelt admin body fields (${store})`, () => {
    let gw: Gateway;
    before(async () => { gw = await startGateway({ store, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } }); });
    after(async () => { await gw?.close(); });

    test('credentials/rotate with a misspelt "dialect" is refused naming it, and rotates nothing', async () => {
      const res = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/credentials/rotate`, {
        method: 'POST', headers: { authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ dialcet: 'opp' }),
      });
      const body = await res.json() as any;
      assert.equal(res.status, 400, `a misspelt dialect was taken as "both": ${JSON.stringify(body.rotated ?? body)}`);
      assert.match(body.error.message, /dialcet/);
      // Nothing changed: the executions API key still gets an access token.
      const token = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': gw.merchant.apiKey } });
      assert.equal(token.status, 200, 'the executions API key was rotated by a request that named no dialect');
    });

    test('rotate with a misspelt "overlapHours" is refused, not rotated with the 24-hour default overlap', async () => {
      const port = await freePort();
      const ep = await admin(gw, 'POST', '/webhooks/endpoints', { merchantId: gw.merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${port}/` });
      assert.equal(ep.status, 201, JSON.stringify(ep.body));
      const r = await admin(gw, 'POST', `/webhooks/endpoints/${ep.body.endpointId}/rotate`, { overlapHour: 0 });
      assert.equal(r.status, 400, `rotated with the old secret valid until ${r.body.previousSecretUntil}`);
      assert.match(r.body.error.message, /overlapHour/);
      const after = await admin(gw, 'GET', `/webhooks/endpoints/${ep.body.endpointId}`);
      assert.equal(after.body.previousSecretUntil, undefined, 'nothing was rotated');
    });

    test('redeliver with "merchant" for "merchantId" is refused, not a redelivery of every merchant\'s failures', async () => {
      const r = await admin(gw, 'POST', '/webhooks/redeliver', { since: '2026-01-01', merchant: gw.merchant.merchantId });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.error.message, /merchant/);
    });

    test('redeliver naming an endpoint or merchant that does not exist is a 404, not "0 redelivered"', async () => {
      const byEndpoint = await admin(gw, 'POST', '/webhooks/redeliver', { since: '2026-01-01', endpointId: 'f'.repeat(32) });
      assert.equal(byEndpoint.status, 404, JSON.stringify(byEndpoint.body));
      assert.equal(byEndpoint.body.error.code, 'endpoint_not_found');
      const byMerchant = await admin(gw, 'POST', '/webhooks/redeliver', { since: '2026-01-01', merchantId: 'f'.repeat(32) });
      assert.equal(byMerchant.status, 404, JSON.stringify(byMerchant.body));
      assert.equal(byMerchant.body.error.code, 'merchant_not_found');
    });
  });
}
