import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../runtime/clock.ts';
import { Cvv } from './card.ts';
import { createCvvCache } from './cvv-cache.ts';

test('a CVV is handed out once, and not after it expired', () => {
  const clock = manualClock();
  const cache = createCvvCache(clock);
  cache.put('a', new Cvv('123'), clock.now() + 1000);
  cache.put('b', new Cvv('456'), clock.now() + 1000);
  assert.equal(cache.take('a')?.reveal(), '123');
  assert.equal(cache.take('a'), undefined);
  clock.advance(1000);
  assert.equal(cache.take('b'), undefined);
  assert.equal(cache.size, 0);
});

test('memory stays bounded: when full, expired entries go first, then the oldest', () => {
  const clock = manualClock();
  const cache = createCvvCache(clock, 3);
  cache.put('old', new Cvv('111'), clock.now() + 10);
  cache.put('b', new Cvv('222'), clock.now() + 1000);
  cache.put('c', new Cvv('333'), clock.now() + 1000);
  clock.advance(20);
  cache.put('d', new Cvv('444'), clock.now() + 1000);
  assert.equal(cache.size, 3);
  assert.equal(cache.take('b')?.reveal(), '222');
  cache.put('e', new Cvv('555'), clock.now() + 1000);
  cache.put('f', new Cvv('666'), clock.now() + 1000);
  assert.equal(cache.take('c'), undefined, 'the oldest live entry made room');
  assert.equal(cache.take('f')?.reveal(), '666');
});

test('a CVV prints masked even from the cache', () => {
  const clock = manualClock();
  const cache = createCvvCache(clock);
  cache.put('a', new Cvv('987'), clock.now() + 1000);
  assert.doesNotMatch(JSON.stringify(cache.take('a')), /987/);
});
