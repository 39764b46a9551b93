/**
 * A session cookie the dashboard did not write (malformed percent-encoding, as a
 * sibling app on the same host or a broken extension may leave) sends the browser to sign in; it
 * does not turn every dashboard page into "Something went wrong" (500).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway({}); });
after(async () => { await gw?.close(); });

test('a malformed __Host-sy_dashboard cookie redirects to sign-in (303), not 500', async () => {
  const r = await fetch(`${gw.url}/dashboard/payments`, { headers: { cookie: '__Host-sy_dashboard=%E0%A4%A' }, redirect: 'manual' });
  await r.text();
  assert.equal(r.status, 303, `answered ${r.status}`);
});

test('a malformed sign-in cookie gets the sign-in form again (403), not 500', async () => {
  const r = await fetch(`${gw.url}/dashboard/sign-in`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: 'x', email: 'a@example.com', password: 'whatever whatever', next: '/dashboard' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: '__Host-sy_dashboard_signin=%', origin: gw.url },
  });
  await r.text();
  assert.equal(r.status, 403, `answered ${r.status}`);
});
