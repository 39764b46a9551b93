/**
 * Dates typed by people (an operator's `since`, a shopper's birth date) that name no real day are
 * refused, not silently rolled over by Date.parse into another day.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw?.close(); });

const admin = () => ({ authorization: `Bearer ${gw.app.admin.token}`, 'content-type': 'application/json' });

test('the admin redelivery refuses a since that names no real day (2026-02-30 was read as 2 March) or no ISO date', async () => {
  for (const since of ['2026-02-30', '2026-02-30T00:00:00Z', '2026-04-31T10:00:00Z', '1', 'May 5']) {
    const r = await fetch(`${gw.url}/admin/api/webhooks/redeliver`, { method: 'POST', headers: admin(), body: JSON.stringify({ since }) });
    assert.equal(r.status, 400, `since=${since} was accepted: ${await r.text()}`);
  }
});

test('the admin delivery log refuses such a since too, and takes a real one', async () => {
  for (const since of ['2026-02-30', '2026-04-31T10:00:00Z']) {
    const r = await fetch(`${gw.url}/admin/api/webhooks/deliveries?since=${encodeURIComponent(since)}`, { headers: admin() });
    assert.equal(r.status, 400, `since=${since} was accepted: ${await r.text()}`);
  }
  const r = await fetch(`${gw.url}/admin/api/webhooks/deliveries?since=2026-02-28`, { headers: admin() });
  assert.equal(r.status, 200, await r.text());
});

test('a /v1 payment with customer.birthDate=1990-02-30 is refused as an invalid birth date (100.900.450); 1992-02-29 is taken', async () => {
  const r = await pay(gw, { 'customer.birthDate': '1990-02-30' });
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.result.code, '100.900.450');
  assert.equal(r.body.result.parameterErrors[0].name, 'customer.birthDate');
  const leap = await pay(gw, { 'customer.birthDate': '1992-02-29' });
  assert.equal(leap.status, 200, JSON.stringify(leap.body));
});
