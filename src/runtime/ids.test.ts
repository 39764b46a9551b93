import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomHex, randomIds } from './ids.ts';

test('randomHex: the asked number of bytes as hex, never repeating, across refills of its pool', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const h = randomHex(i % 2 ? 16 : 8);
    assert.match(h, i % 2 ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{16}$/);
    seen.add(h);
  }
  assert.equal(seen.size, 2000, '24,000 bytes drawn through six refills of a 4 KiB pool, no id twice');
  assert.match(randomIds.hex32(), /^[0-9a-f]{32}$/);
});
