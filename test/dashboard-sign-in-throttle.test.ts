/**
 * Sign-in throttling per address, over HTTP: failed sign-ins from one address across many emails
 * pause sign-in from it (429, a page that says so, Retry-After), the right password included, on
 * every node of the gateway (the count is in the database), until the window has room again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { loadConfig } from '../src/config.ts';
import { createApp, type App } from '../src/app.ts';
import { signInThrottle } from '../src/dashboard/model.ts';

const clock = manualClock();
const password = 'a long test password';
let gw: Gateway;
let second: App;
let secondUrl: string;
before(async () => {
  gw = await startGateway({ clock });
  // A second node over the same store.
  second = await createApp(loadConfig({ SWITCHYARD_DATA_DIR: gw.dataDir, PORT: '0', LOG_LEVEL: 'error' }), { clock });
  secondUrl = await second.server.listen({ port: 0, host: '127.0.0.1' });
  assert.ok((await gw.app.dashboard.addUser({ email: 'ops@example.com', role: 'operator', merchantId: undefined, password })).ok);
});
after(async () => {
  await second?.close();
  await gw?.close();
});

async function signIn(url: string, email: string, pass: string): Promise<{ status: number; text: string; retryAfter: string | null }> {
  const form = await fetch(`${url}/dashboard/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const r = await fetch(`${url}/dashboard/sign-in`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: token, email, password: pass, next: '/dashboard' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie()[0]!.split(';')[0]!, origin: url },
  });
  return { status: r.status, text: await r.text(), retryAfter: r.headers.get('retry-after') };
}

test('failed sign-ins across many emails from one address: 429 with a clear page on every node, the right password too, until the window passes', async () => {
  for (let i = 0; i < signInThrottle.failures; i++) {
    const url = i % 2 ? secondUrl : gw.url;
    const r = await signIn(url, `guess-${i}@example.com`, 'password spray!');
    assert.equal(r.status, 401, `attempt ${i + 1}`);
    assert.match(r.text, /email or password is wrong/);
  }
  for (const url of [gw.url, secondUrl]) {
    const r = await signIn(url, 'ops@example.com', password);
    assert.equal(r.status, 429);
    assert.match(r.text, /Too many failed sign-ins from your network/);
    assert.equal(r.retryAfter, String(signInThrottle.windowMs / 1000));
    assert.doesNotMatch(r.text, /locked/, 'the account itself is not locked');
  }
  const user = (await gw.app.dashboard.users()).find((u) => u.email === 'ops@example.com')!;
  assert.equal(user.lockedUntil, undefined);
  const log = await gw.app.dashboard.auditLog({ limit: 100 });
  assert.ok(log.some((e) => e.email === 'ops@example.com' && e.detail.reason === 'address_throttled' && e.ip === '127.0.0.1'));

  clock.advance(signInThrottle.windowMs + 1);
  const after = await signIn(secondUrl, 'ops@example.com', password);
  assert.equal(after.status, 303);
});
