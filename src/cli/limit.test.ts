import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageLimit } from './limit.ts';

test('a --limit is digits only, from 1 to the most; the fallback when not given', () => {
  assert.equal(pageLimit(undefined, 50, 1000), 50);
  assert.equal(pageLimit('1', 50, 1000), 1);
  assert.equal(pageLimit('1000', 50, 1000), 1000);
  for (const bad of ['0', '1001', '0x10', '1e1', '1.0', '+5', '-1', '', 'ten', '99999']) assert.equal(pageLimit(bad, 50, 1000), undefined, bad);
});
