/**
 * The admin API's calls whose body fields are all optional (an endpoint's secret rotation
 * `{overlapHours?}`, an event's redelivery `{endpointId?}`) take a POST with no body at all, as
 * `curl -X POST` sends it, with their defaults: it was refused 400 "body must be object". One with a
 * required field names that field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, testCard } from './support/harness.ts';

const adminToken = 'operator-token-for-optional-bodies-0123';

test('admin webhooks: rotate and event redeliver, whose body fields are all optional, accept a POST without a body', async () => {
  const gw = await startGateway({ env: { SWITCHYARD_ADMIN_TOKEN: adminToken, SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' } });
  const auth = { authorization: `Bearer ${adminToken}` };
  try {
    const added = await fetch(`${gw.url}/admin/api/webhooks/endpoints`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ merchantId: gw.merchant.merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/', entityId: gw.merchant.entityId }),
    });
    assert.equal(added.status, 201, await added.clone().text());
    const { endpointId } = await added.json() as { endpointId: string };

    // Documented without a body, and served so.
    const disabled = await fetch(`${gw.url}/admin/api/webhooks/endpoints/${endpointId}/disable`, { method: 'POST', headers: auth });
    assert.equal(disabled.status, 200);
    const enabled = await fetch(`${gw.url}/admin/api/webhooks/endpoints/${endpointId}/enable`, { method: 'POST', headers: auth });
    assert.equal(enabled.status, 200);

    // `{overlapHours?}` (0–168, default 24): no body means the default overlap (an executions
    // endpoint's: a /v1 one's key changes at once).
    const signed = await fetch(`${gw.url}/admin/api/webhooks/endpoints`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ merchantId: gw.merchant.merchantId, dialect: 'executions', url: 'http://127.0.0.1:9/' }),
    });
    assert.equal(signed.status, 201, await signed.clone().text());
    const executionsEndpoint = (await signed.json() as { endpointId: string }).endpointId;
    const rotated = await fetch(`${gw.url}/admin/api/webhooks/endpoints/${executionsEndpoint}/rotate`, { method: 'POST', headers: auth });
    const rotatedBody = await rotated.text();
    assert.equal(rotated.status, 200, `rotate without a body: ${rotated.status} ${rotatedBody}`);
    const r = JSON.parse(rotatedBody) as { secret: string; previousSecretUntil: string };
    const hours = (Date.parse(r.previousSecretUntil) - Date.now()) / 3_600_000;
    assert.ok(hours > 23.9 && hours <= 24, `default overlap is 24 h, got ${hours}`);

    // `{endpointId?}`: no body means every delivery of the event.
    const payment = await pay(gw, { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'PA' });
    assert.equal(payment.status, 200);
    let eventId: string | undefined;
    for (let i = 0; i < 50 && !eventId; i++) {
      await gw.app.webhooks.runOnce();
      const log = await (await fetch(`${gw.url}/admin/api/webhooks/deliveries?endpointId=${endpointId}`, { headers: auth })).json() as { deliveries: { eventId: string; eventType: string }[] };
      eventId = log.deliveries.find((d) => d.eventType === 'PAYMENT')?.eventId;
      if (!eventId) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(eventId, 'the payment\'s notification is in the delivery log');
    const redelivered = await fetch(`${gw.url}/admin/api/webhooks/events/${eventId}/redeliver`, { method: 'POST', headers: auth });
    const redeliveredBody = await redelivered.text();
    assert.equal(redelivered.status, 200, `event redeliver without a body: ${redelivered.status} ${redeliveredBody}`);
    const since = await fetch(`${gw.url}/admin/api/webhooks/redeliver`, { method: 'POST', headers: auth });
    assert.equal(since.status, 400);
    assert.match(JSON.stringify(await since.json()), /since/, 'the missing field is named');
  } finally { await gw.close(); }
});
