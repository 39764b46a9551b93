/**
 * What a merchant-scoped dashboard user can reach. A merchant's admin registered `https://*` as an
 * origin (the URL parser takes `*` in a host), and the card-number fields were then served with
 * `frame-ancestors https://*`, which lets every https page frame them. A user added with an empty
 * merchant id was read as scoped by some pages and as gateway-wide by the payment list.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { postForm, signIn } from './support/dashboard.ts';
import { opp, startGateway, type Gateway } from './support/harness.ts';

const password = 'a long test password';
let gw: Gateway;
let other: Awaited<ReturnType<Gateway['app']['merchants']['create']>>;

before(async () => {
  gw = await startGateway();
  other = await gw.app.merchants.create({ name: 'Other Merchant' });
  assert.ok((await gw.app.dashboard.addUser({ email: 'scoped-admin@shop.example', role: 'admin', merchantId: gw.merchant.merchantId, password })).ok);
});
after(async () => { await gw?.close(); });

test('a merchant-scoped admin cannot register a wildcard "origin" that lets any https page frame the card fields', async () => {
  const s = await signIn(gw.url, 'scoped-admin@shop.example', password);
  const m = gw.merchant.merchantId;
  const r = await postForm(gw.url, s, `/dashboard/merchants/${m}/origins`, { _csrf: s.csrf, origin: 'https://*' });
  await r.text();
  const origins = await gw.app.merchants.origins(m);
  // What the field page then sends: a CSP host-source `https://*` matches every https page.
  const field = await fetch(`${gw.url}/sdk/v1/field?type=cardNumber&merchant=${m}&parent=${encodeURIComponent('https://*')}&channel=abcdefgh12`);
  await field.text();
  const csp = field.headers.get('content-security-policy') ?? '';
  assert.equal(r.status, 400, `"https://*" is not an origin, yet the form saved it (${r.status}); origins now ${JSON.stringify(origins)}`);
  assert.ok(!origins.includes('https://*'), `stored origins: ${JSON.stringify(origins)}`);
  assert.doesNotMatch(csp, /frame-ancestors[^;]*https:\/\/\*/, `the card field may be framed by any https page: ${csp}`);
});

test('a user\'s scope is a merchant\'s id or none: an empty or malformed one is refused', async () => {
  for (const merchantId of ['', ' ', 'not-a-merchant', gw.merchant.merchantId.toUpperCase()]) {
    const added = await gw.app.dashboard.addUser({ email: `scope-${merchantId.length}-${merchantId.slice(0, 3)}@shop.example`, role: 'viewer', merchantId, password });
    assert.equal(added.ok, false, JSON.stringify(merchantId));
  }
  assert.ok((await gw.app.dashboard.addUser({ email: 'scoped-viewer@shop.example', role: 'viewer', merchantId: other.merchantId, password })).ok);
});

test('a field page is framed only by origins of one host: a wildcard stored before this rule, or named for a checkout, frames nothing', async () => {
  const m = other.merchantId;
  await gw.app.storage.db.insertInto('merchant_origins').values({ merchant_id: m, origin: 'https://*', created_at: Date.now() }).execute();
  const secure = await fetch(`${gw.url}/sdk/v1/field?type=cardNumber&merchant=${m}&parent=${encodeURIComponent('https://*')}&channel=abcdefgh12`);
  await secure.text();
  assert.equal(secure.status, 400, 'the stored wildcard is no registered origin');
  const checkout = await opp(gw, 'POST', '/v1/checkouts', { amount: '10.00', currency: 'EUR', paymentType: 'DB' });
  assert.ok(checkout.body.id, JSON.stringify(checkout.body));
  const field = await fetch(`${gw.url}/sdk/v1/field?type=cardNumber&checkout=${checkout.body.id}&parent=${encodeURIComponent('https://*')}&channel=abcdefgh12`);
  await field.text();
  assert.equal(field.status, 400, `frame-ancestors ${field.headers.get('content-security-policy')}`);
  const own = await fetch(`${gw.url}/sdk/v1/field?type=cardNumber&checkout=${checkout.body.id}&parent=${encodeURIComponent('https://shop.example')}&channel=abcdefgh12`);
  await own.text();
  assert.equal(own.status, 200, 'one host is framed as before');
});
