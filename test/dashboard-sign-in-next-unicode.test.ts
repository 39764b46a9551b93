/**
 * Sign-in's `next` is read from anyone (a link to the sign-in page). One holding a character
 * outside Latin-1 was put raw into the Location header after the right password, which Node
 * refuses: the operator was answered 500 with no session cookie, every time they retried through
 * that link. It is sent percent-encoded.
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

test('a sign-in link whose next holds a character outside Latin-1 still signs the operator in (303 to a dashboard page, session cookie set)', async () => {
  const next = '/dashboard/payments?q=\u0100';
  const form = await fetch(`${gw.url}/dashboard/sign-in?next=${encodeURIComponent(next)}`);
  const html = await form.text();
  const cookie = form.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const carried = /name="next" value="([^"]*)"/.exec(html)![1]!;
  const r = await fetch(`${gw.url}/dashboard/sign-in`, {
    method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: gw.url },
    body: new URLSearchParams({ _csrf: csrf, email: 'someone@example.com', password: 'someone-password-123', next: carried }),
  });
  await r.text();
  assert.equal(r.status, 303, 'the right password signs in');
  assert.equal(r.headers.get('location'), '/dashboard/payments?q=%C4%80', 'to the page asked for');
  assert.ok(r.headers.getSetCookie().some((c) => c.startsWith('__Host-sy_dashboard=')), 'a session cookie is set');
});

test('a page asked for without a session is carried to sign-in only as far as sign-in would send the operator back: a long address is the overview', async () => {
  const short = await fetch(`${gw.url}/dashboard/payments?q=abc`, { redirect: 'manual' });
  assert.equal(short.status, 303);
  assert.equal(short.headers.get('location'), `/dashboard/sign-in?next=${encodeURIComponent('/dashboard/payments?q=abc')}`);
  // 8 KB of query, past what sign-in keeps: carried encoded again, it made a 16 KB Location header.
  const long = await fetch(`${gw.url}/dashboard/payments?q=${'%25'.repeat(2700)}`, { redirect: 'manual' });
  assert.equal(long.status, 303);
  assert.equal(long.headers.get('location'), `/dashboard/sign-in?next=${encodeURIComponent('/dashboard')}`);
});
