/** A sign-in racing a password change, on the real store. */
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
import type { DashboardStore } from './store.ts';

const clock = manualClock();
const oldPassword = 'the old passphrase, leaked';
const newPassword = 'a brand new passphrase';
let dir: string;
let storage: Storage;
let auth: DashboardAuth;
/** Run once, inside a sign-in, after its user was read and before its password is checked. */
let meanwhile: (() => Promise<unknown>) | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-dash-race-'));
  storage = await openStorage({ kind: 'sqlite', dataDir: dir });
  const real = createDashboardStore(storage.uow);
  const store: DashboardStore = {
    ...real,
    async changeSignInState(userId, change, at) {
      const r = await real.changeSignInState(userId, change, at);
      const m = meanwhile;
      meanwhile = undefined;
      if (m) await m();
      return r;
    },
  };
  auth = createDashboardAuth({ store, clock, ids: randomIds, throttle: createThrottle({ store: createThrottleStore(storage.uow), clock }) });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

// A password change ends every session of the user: the operator's one way to shut out a leaked
// password, which a sign-in with it racing the change must not get around.
test('a sign-in with the old password that is still being checked when the password changes does not leave a live session', async () => {
  assert.ok((await auth.addUser({ email: 'ops@example.com', role: 'admin', merchantId: undefined, password: oldPassword })).ok);
  meanwhile = async () => assert.ok((await auth.setPassword('ops@example.com', newPassword)).ok);
  const r = await auth.signIn('ops@example.com', oldPassword, '203.0.113.9');
  // Afterwards the old password signs nobody in...
  assert.equal((await auth.signIn('ops@example.com', oldPassword, '203.0.113.9')).ok, false);
  // ...nor did the one checked while the password changed: no session made with it outlives the change.
  assert.equal(r.ok, false, 'a sign-in with the old password succeeded after the password changed');
  assert.equal((await auth.signIn('ops@example.com', newPassword, '203.0.113.9')).ok, true);
});
