import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { manualClock } from '../runtime/clock.ts';
import { Cvv } from './card.ts';
import { createCvvCache, createSharedCvvCache } from './cvv-cache.ts';
import type { CvvHoldStore } from './store.ts';

test('a CVV is handed out once, and not after it expired', async () => {
  const clock = manualClock();
  const cache = createCvvCache(clock);
  await cache.put('a', new Cvv('123'), clock.now() + 1000);
  await cache.put('b', new Cvv('456'), clock.now() + 1000);
  assert.equal((await cache.take('a'))?.reveal(), '123');
  assert.equal(await cache.take('a'), undefined);
  clock.advance(1000);
  assert.equal(await cache.take('b'), undefined);
  assert.equal(cache.size, 0);
});

test('the sweep forgets what expired and keeps what lives', async () => {
  const clock = manualClock();
  const cache = createCvvCache(clock);
  await cache.put('short', new Cvv('123'), clock.now() + 1000);
  await cache.put('long', new Cvv('456'), clock.now() + 60_000);
  clock.advance(1000);
  assert.equal(await cache.purgeExpired(), 1);
  assert.equal(cache.size, 1);
  assert.equal((await cache.take('long'))?.reveal(), '456');
});

test('memory stays bounded: when full, expired entries go first, then the oldest', async () => {
  const clock = manualClock();
  const cache = createCvvCache(clock, 3);
  await cache.put('old', new Cvv('111'), clock.now() + 10);
  await cache.put('b', new Cvv('222'), clock.now() + 1000);
  await cache.put('c', new Cvv('333'), clock.now() + 1000);
  clock.advance(20);
  await cache.put('d', new Cvv('444'), clock.now() + 1000);
  assert.equal(cache.size, 3);
  assert.equal((await cache.take('b'))?.reveal(), '222');
  await cache.put('e', new Cvv('555'), clock.now() + 1000);
  await cache.put('f', new Cvv('666'), clock.now() + 1000);
  assert.equal(await cache.take('c'), undefined, 'the oldest live entry made room');
  assert.equal((await cache.take('f'))?.reveal(), '666');
});

test('a CVV prints masked even from the cache', async () => {
  const clock = manualClock();
  const cache = createCvvCache(clock);
  await cache.put('a', new Cvv('987'), clock.now() + 1000);
  assert.doesNotMatch(JSON.stringify(await cache.take('a')), /987/);
});

/** The rows a shared holder writes, as a map: what reaches the database is all this test looks at. */
function rowsStore(): CvvHoldStore & { rows: Map<string, { sealed: string; expiresAt: number }> } {
  const rows = new Map<string, { sealed: string; expiresAt: number }>();
  return {
    rows,
    async put(key, sealed, expiresAt) { rows.set(key, { sealed, expiresAt }); },
    async take(key) { const r = rows.get(key); rows.delete(key); return r; },
    async drop(key) { rows.delete(key); },
    async has(key, now) { return (rows.get(key)?.expiresAt ?? 0) > now; },
    async purgeBefore(now) { let n = 0; for (const [k, r] of rows) if (r.expiresAt <= now) { rows.delete(k); n++; } return n; },
  };
}

test('the shared holder writes only sealed codes, bound to their key, and hands each out once', async () => {
  const clock = manualClock();
  const store = rowsStore();
  const key = randomBytes(32);
  const cache = createSharedCvvCache({ store, key, clock });
  await cache.put('payment-1', new Cvv('4321'), clock.now() + 1000);
  const row = store.rows.get('payment-1')!;
  assert.doesNotMatch(row.sealed, /4321/);
  assert.doesNotMatch(Buffer.from(row.sealed, 'base64url').toString('latin1'), /4321/);
  assert.equal(await cache.has('payment-1'), true);
  // A sealed code copied under another key does not open there.
  store.rows.set('payment-2', row);
  await assert.rejects(cache.take('payment-2'));
  assert.equal((await cache.take('payment-1'))?.reveal(), '4321');
  assert.equal(await cache.take('payment-1'), undefined);
});

test('the shared holder never hands out an expired code, and the sweep deletes it', async () => {
  const clock = manualClock();
  const store = rowsStore();
  const cache = createSharedCvvCache({ store, key: randomBytes(32), clock });
  await cache.put('a', new Cvv('111'), clock.now() + 1000);
  await cache.put('b', new Cvv('222'), clock.now() + 1000);
  clock.advance(1000);
  assert.equal(await cache.has('a'), false);
  assert.equal(await cache.take('a'), undefined);
  assert.equal(await cache.purgeExpired(), 1);
  assert.equal(store.rows.size, 0);
});
