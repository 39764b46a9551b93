import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRefusalAllowance } from './refusal-allowance.ts';

test('the first refusals of an address are written; then one row says the rest are counted; the count comes with its next refusal after the window', () => {
  const a = createRefusalAllowance({ perWindow: 3, windowMs: 1000 });
  const at = (ip: string, now: number) => a.take(ip, now);
  assert.deepEqual([0, 1, 2].map((i) => at('1.1.1.1', i).write), [true, true, true]);
  assert.deepEqual(at('1.1.1.1', 3), { write: false, summary: { kind: 'limited', until: 1000, perWindow: 3 } });
  for (let i = 4; i < 50; i++) assert.deepEqual(at('1.1.1.1', i), { write: false });
  // Another address has its own allowance.
  assert.equal(at('2.2.2.2', 10).write, true);
  // After the window: the count of what was not written, then this refusal's own row.
  assert.deepEqual(at('1.1.1.1', 2000), { write: true, summary: { kind: 'counted', count: 47, from: 0, to: 49 } });
  assert.deepEqual(at('1.1.1.1', 2001), { write: true });
});

test('the addresses it remembers are bounded', () => {
  const a = createRefusalAllowance({ perWindow: 1, windowMs: 1000, maxAddresses: 100 });
  for (let i = 0; i < 10_000; i++) assert.equal(a.take(`10.0.${i >> 8}.${i & 255}`, i).write, true);
});
