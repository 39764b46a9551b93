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
import { lockout } from './model.ts';
import type { DashboardStore } from './store.ts';

const clock = manualClock();
const password = 'twelve chars or more';
let dir: string;
let storage: Storage;
let auth: DashboardAuth;
let failNextStateWrite = false;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchyard-lockout-'));
  storage = await openStorage({ kind: 'sqlite', dataDir: dir });
  const real = createDashboardStore(storage.uow);
  // A database blip (or the node dying) between the try being counted and its outcome being written.
  const store: DashboardStore = {
    ...real,
    async setSignInState(...a) {
      if (failNextStateWrite) { failNextStateWrite = false; throw new Error('connection lost'); }
      return real.setSignInState(...a);
    },
  };
  auth = createDashboardAuth({ store, clock, ids: randomIds, throttle: createThrottle({ store: createThrottleStore(storage.uow), clock }) });
});
after(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a sign-in whose outcome was never written (a crash or a database blip after its try was counted) does not lock the account for ever', async () => {
  assert.ok((await auth.addUser({ email: 'carol@example.com', role: 'viewer', merchantId: undefined, password })).ok);
  for (let i = 1; i < lockout.failures; i++) assert.deepEqual(await auth.signIn('carol@example.com', 'wrong password!', '198.51.100.8'), { ok: false, error: 'invalid' });
  // The fifth try is the right password, but writing its success fails: the try stays counted.
  failNextStateWrite = true;
  await assert.rejects(auth.signIn('carol@example.com', password, '198.51.100.8'));
  // A day later the right password is taken: the try that used up the count locked the account, and that lock has ended.
  clock.advance(24 * 3600_000);
  const r = await auth.signIn('carol@example.com', password, '198.51.100.8');
  assert.equal(r.ok, true, `the right password a day later: ${JSON.stringify(r)}`);
});
