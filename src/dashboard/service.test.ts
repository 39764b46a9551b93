import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStorage, type Storage } from '../storage/database.ts';
import { manualClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { createDashboardStore } from './kysely-store.ts';
import { createThrottleStore } from '../throttle/kysely-store.ts';
import { createThrottle } from '../throttle/service.ts';
import { createDashboardAuth, type DashboardAuth } from './service.ts';
import { lockout, sessionTtl, signInSource, signInThrottle } from './model.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

const clock = manualClock();
const password = 'twelve chars or more';
let dir: string;
let storage: Storage;
let auth: DashboardAuth;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-dash-'));
  storage = await openStorage({ kind: 'sqlite', dataDir: dir });
  auth = createDashboardAuth({ store: createDashboardStore(storage.uow), clock, ids: randomIds, throttle: createThrottle({ store: createThrottleStore(storage.uow), clock }) });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

test('scrypt hashes are salted and carry their parameters; only the right password verifies', async () => {
  const [a, b] = [await hashPassword(password), await hashPassword(password)];
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword(password, a), true);
  assert.equal(await verifyPassword(`${password}!`, a), false);
  assert.equal(await verifyPassword(password, 'plain'), false);
});

test('users: a valid email, a long enough password, one user per email (case-insensitive)', async () => {
  assert.deepEqual(await auth.addUser({ email: 'nope', role: 'viewer', merchantId: undefined, password }), { ok: false, error: 'the email must look like name@example.com' });
  assert.deepEqual(await auth.addUser({ email: 'a@example.com', role: 'viewer', merchantId: undefined, password: 'short' }), { ok: false, error: 'the password must be at least 12 characters' });
  const r = await auth.addUser({ email: 'Ann@Example.com', role: 'operator', merchantId: undefined, password });
  assert.ok(r.ok);
  assert.equal(r.value.email, 'ann@example.com');
  assert.equal((await auth.addUser({ email: 'ann@example.com', role: 'admin', merchantId: undefined, password })).ok, false);
});

test('sign-in gives a session whose cookie value is not stored; idle sessions end; sign-out ends it at once', async () => {
  const r = await auth.signIn('ann@example.com', password, '198.51.100.7');
  assert.ok(r.ok);
  const row = await storage.db.selectFrom('dashboard_sessions').selectAll().where('user_id', '=', r.value.session.user.id).executeTakeFirstOrThrow();
  assert.notEqual(row.token_hash, r.value.token);
  assert.equal((await auth.session(r.value.token))?.user.email, 'ann@example.com');
  clock.advance(sessionTtl.idleMs + 1);
  assert.equal(await auth.session(r.value.token), undefined);
  const again = await auth.signIn('ann@example.com', password, '198.51.100.7');
  assert.ok(again.ok);
  await auth.signOut(again.value.token, '198.51.100.7');
  assert.equal(await auth.session(again.value.token), undefined);
});

test('the timers PCI DSS v4 asks of access to card data systems: a session idle more than 15 minutes ends (8.2.8), a locked account stays locked at least 30 (8.3.4)', () => {
  assert.ok(sessionTtl.idleMs <= 15 * 60_000, `idle sessions live ${sessionTtl.idleMs / 60_000} minutes`);
  assert.ok(lockout.lockMs >= 30 * 60_000, `a lockout lasts ${lockout.lockMs / 60_000} minutes`);
  assert.ok(lockout.failures <= 10, 'at most 10 failures lock an account (8.3.4)');
});

test('lockout: the fifth wrong password in a row locks the account for 30 minutes, then the right one works again', async () => {
  assert.ok((await auth.addUser({ email: 'bob@example.com', role: 'viewer', merchantId: undefined, password })).ok);
  for (let i = 1; i < lockout.failures; i++) assert.deepEqual(await auth.signIn('bob@example.com', 'wrong password!', '198.51.100.8'), { ok: false, error: 'invalid' });
  assert.deepEqual(await auth.signIn('bob@example.com', 'wrong password!', '198.51.100.8'), { ok: false, error: 'locked' });
  assert.deepEqual(await auth.signIn('bob@example.com', password, '198.51.100.8'), { ok: false, error: 'locked' });
  clock.advance(lockout.lockMs + 1);
  assert.equal((await auth.signIn('bob@example.com', password, '198.51.100.8')).ok, true);
  // An unknown email is refused the same way and audited under the email typed.
  assert.deepEqual(await auth.signIn('nobody@example.com', password, '198.51.100.9'), { ok: false, error: 'invalid' });
  const log = await auth.auditLog({ limit: 100 });
  assert.ok(log.some((e) => e.email === 'nobody@example.com' && e.outcome === 'refused' && e.ip === '198.51.100.9'));
  assert.ok(log.some((e) => e.email === 'bob@example.com' && e.detail.locked === true));
});

test('a new password signs the user out everywhere', async () => {
  const r = await auth.signIn('ann@example.com', password, '198.51.100.7');
  assert.ok(r.ok);
  assert.ok((await auth.setPassword('ann@example.com', 'another long password')).ok);
  assert.equal(await auth.session(r.value.token), undefined);
});

test('sign-in source: an IPv4 address as is (also IPv4-mapped), an IPv6 address by its /64', () => {
  assert.equal(signInSource('203.0.113.9'), '203.0.113.9');
  assert.equal(signInSource('::ffff:203.0.113.9'), '203.0.113.9');
  assert.equal(signInSource('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(signInSource('2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
  assert.equal(signInSource('2001:db8:0:1:ffff::2'), signInSource('2001:db8:0:1::3'), 'one /64, one source');
  assert.notEqual(signInSource('2001:db8:0:1::1'), signInSource('2001:db8:0:2::1'));
  assert.equal(signInSource('::1'), '0:0:0:0::/64');
  assert.equal(signInSource('fe80::1%eth0'), 'fe80:0:0:0::/64');
});

test('per-address throttle: failures across many emails refuse the address, the right password included, until the window has room; other addresses unaffected', async () => {
  assert.ok((await auth.addUser({ email: 'carol@example.com', role: 'viewer', merchantId: undefined, password })).ok);
  const spray = '192.0.2.51';
  for (let i = 0; i < signInThrottle.failures; i++) {
    assert.deepEqual(await auth.signIn(`spray-${i}@example.com`, 'password spray!', spray), { ok: false, error: 'invalid' });
  }
  assert.deepEqual(await auth.signIn('carol@example.com', password, spray), { ok: false, error: 'throttled' });
  assert.deepEqual(await auth.signIn('nobody-else@example.com', 'password spray!', spray), { ok: false, error: 'throttled' });
  // Another address signs in; carol's account is not locked by the spray.
  assert.equal((await auth.signIn('carol@example.com', password, '192.0.2.52')).ok, true);
  const log = await auth.auditLog({ limit: 200 });
  assert.ok(log.some((e) => e.ip === spray && e.detail.reason === 'address_throttled' && e.email === 'carol@example.com'));
  // Refused attempts are not counted: once the window has passed, the address may try again.
  clock.advance(signInThrottle.windowMs - 1);
  assert.deepEqual(await auth.signIn('carol@example.com', password, spray), { ok: false, error: 'throttled' });
  clock.advance(2);
  assert.equal((await auth.signIn('carol@example.com', password, spray)).ok, true);
  // An IPv6 attacker moving through its /64 is one source.
  for (let i = 0; i < signInThrottle.failures; i++) await auth.signIn(`v6-${i}@example.com`, 'password spray!', `2001:db8:5:6::${(i + 1).toString(16)}`);
  assert.deepEqual(await auth.signIn('carol@example.com', password, '2001:db8:5:6:ffff::1'), { ok: false, error: 'throttled' });
  assert.equal((await auth.signIn('carol@example.com', password, '2001:db8:5:7::1')).ok, true);
});
