/**
 * The sign-in form's double-submit check: the form's `_csrf` must equal the cookie the form was
 * served with. A post with no cookie at all is refused whatever `_csrf` holds (a login CSRF would
 * otherwise sign a victim's browser into the attacker's account).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => {
  gw = await startGateway();
  assert.ok((await gw.app.dashboard.addUser({ email: 'someone@example.com', role: 'viewer', merchantId: undefined, password: 'someone-password-123' })).ok);
});
after(async () => { await gw?.close(); });

const signIn = (csrf: string, cookie?: string) => fetch(`${gw.url}/dashboard/sign-in`, {
  method: 'POST', redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie !== undefined ? { cookie } : {}) },
  body: `_csrf=${csrf}&email=someone%40example.com&password=someone-password-123&next=%2Fdashboard`,
});

test('a sign-in post without the sign-in cookie is refused, whatever _csrf says (%00, empty)', async () => {
  for (const csrf of ['%00', '']) {
    const r = await signIn(csrf);
    assert.equal(r.status, 403, `_csrf=${csrf}`);
    assert.doesNotMatch(r.headers.get('set-cookie') ?? '', /__Host-sy_dashboard=/);
  }
  const empty = await signIn('', '__Host-sy_dashboard_signin=');
  assert.equal(empty.status, 403, 'an empty cookie and an empty field are not a match');
});

test('a sign-in sets the session cookie once and clears the sign-in cookie once: each cookie one Set-Cookie header', async () => {
  const form = await fetch(`${gw.url}/dashboard/sign-in`);
  const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  assert.ok(csrf && cookie.includes('__Host-sy_dashboard_signin='), cookie);
  const r = await signIn(csrf, cookie);
  assert.equal(r.status, 303);
  const names = r.headers.getSetCookie().map((c) => c.split('=')[0]);
  assert.deepEqual(names.sort(), ['__Host-sy_dashboard', '__Host-sy_dashboard_signin'], r.headers.getSetCookie().join('\n'));
});

test('the dashboard\'s cookies are host-only (__Host-, Secure, Path=/, no Domain): a session under a name a sibling host could plant signs nobody in', async () => {
  const form = await fetch(`${gw.url}/dashboard/sign-in`);
  const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const r = await signIn(csrf, cookie);
  assert.equal(r.status, 303);
  const session = r.headers.getSetCookie().find((c) => c.startsWith('__Host-sy_dashboard='))!;
  for (const attribute of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Strict']) assert.ok(session.split('; ').includes(attribute), `${attribute} in ${session}`);
  assert.doesNotMatch(session, /Domain=/i);
  const value = session.split(';')[0]!.split('=')[1]!;
  const signedIn = await fetch(`${gw.url}/dashboard/payments`, { headers: { cookie: `__Host-sy_dashboard=${value}` }, redirect: 'manual' });
  assert.equal(signedIn.status, 200);
  // A sibling host under the same parent domain can set a cookie without the prefix for the whole
  // domain, under the name the dashboard used to read: it is not read.
  const planted = await fetch(`${gw.url}/dashboard/payments`, { headers: { cookie: `sy_dashboard=${value}` }, redirect: 'manual' });
  assert.equal(planted.status, 303);
});
