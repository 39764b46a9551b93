/**
 * Guesses sent all at once: the account lockout and the per-address limit count every try against
 * the others, on one node and across two nodes of one PostgreSQL database, so a burst of guesses
 * gets no more password checks than the limits allow.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStorage, type Storage, type StorageTarget } from '../src/storage/database.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { createThrottle } from '../src/throttle/service.ts';
import { createThrottleStore } from '../src/throttle/kysely-store.ts';
import { createDashboardAuth } from '../src/dashboard/service.ts';
import { createDashboardStore } from '../src/dashboard/kysely-store.ts';
import { lockout, signInThrottle } from '../src/dashboard/model.ts';
import { postgresAvailable, testPostgresUrl } from './support/harness.ts';

const pgSkip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';
const schema = `sy_signin_${randomBytes(5).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-signin-'));
after(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  if (pgSkip) return;
  const c = new pg.Client({ connectionString: testPostgresUrl });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
});

const cases: { name: string; target: StorageTarget; nodes: number; skip: string | false }[] = [
  { name: 'one node on SQLite', target: { kind: 'sqlite', dataDir }, nodes: 1, skip: false },
  { name: 'two nodes on one PostgreSQL database', target: { kind: 'postgres', url: testPostgresUrl, schema }, nodes: 2, skip: pgSkip },
];

for (const c of cases) {
  describe(c.name, { skip: c.skip }, () => {
    test('40 wrong passwords at once from one address: at most the lockout\'s tries are checked, and the account ends locked', async () => {
      const clock = manualClock();
      const storages: Storage[] = [];
      for (let i = 0; i < c.nodes; i++) storages.push(await openStorage(c.target));
      try {
        const nodes = storages.map((s) => createDashboardAuth({
          store: createDashboardStore(s.uow), clock, ids: randomIds, throttle: createThrottle({ store: createThrottleStore(s.uow), clock }),
        }));
        const email = `ops-${randomBytes(4).toString('hex')}@example.com`;
        assert.ok((await nodes[0]!.addUser({ email, role: 'operator', merchantId: undefined, password: 'a long test password' })).ok);
        const results = await Promise.all(Array.from({ length: 40 }, (_, i) => nodes[i % nodes.length]!.signIn(email, `wrong guess ${i}`, '203.0.113.9')));
        const errors = results.map((r) => (r.ok ? 'ok' : r.error));
        const count = (e: string) => errors.filter((x) => x === e).length;
        // Only a try that got past both limits had its password checked: 'invalid', or the one that locked.
        assert.ok(count('invalid') <= lockout.failures - 1, `${count('invalid')} tries were told invalid: ${errors.join(' ')}`);
        assert.equal(count('ok'), 0);
        assert.ok(count('locked') + count('throttled') >= 40 - lockout.failures, errors.join(' '));
        assert.ok(count('throttled') >= 40 - signInThrottle.failures, 'the address limit counts tries in flight too');
        const user = (await nodes[0]!.users()).find((u) => u.email === email)!;
        assert.ok(user.lockedUntil !== undefined, `not locked (failedSignIns ${user.failedSignIns})`);
        // The right password from another address is refused while the lock holds.
        const right = await nodes.at(-1)!.signIn(email, 'a long test password', '198.51.100.7');
        assert.deepEqual(right.ok ? 'ok' : right.error, 'locked');
      } finally {
        for (const s of storages) await s.close();
      }
    });

    test('a right password after a few wrong ones signs in, starts the count over, and is not counted against its address', async () => {
      const clock = manualClock();
      const storage = await openStorage(c.target);
      try {
        const auth = createDashboardAuth({ store: createDashboardStore(storage.uow), clock, ids: randomIds, throttle: createThrottle({ store: createThrottleStore(storage.uow), clock }) });
        const email = `ops-${randomBytes(4).toString('hex')}@example.com`;
        assert.ok((await auth.addUser({ email, role: 'operator', merchantId: undefined, password: 'a long test password' })).ok);
        const ip = `198.51.100.${1 + (randomBytes(1)[0]! % 200)}`;
        for (let i = 0; i < lockout.failures - 1; i++) assert.deepEqual(await auth.signIn(email, 'wrong password!', ip), { ok: false, error: 'invalid' });
        assert.ok((await auth.signIn(email, 'a long test password', ip)).ok);
        assert.equal((await auth.users()).find((u) => u.email === email)?.failedSignIns, 0);
        // Right passwords are not failures: the address may sign in again and again.
        for (let i = 0; i < signInThrottle.failures + 2; i++) assert.ok((await auth.signIn(email, 'a long test password', ip)).ok, `sign-in ${i}`);
      } finally {
        await storage.close();
      }
    });
  });
}
