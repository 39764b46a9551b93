import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { seal, unseal } from './crypto.ts';

test('a sealed value opens with its key and context only', () => {
  const key = randomBytes(32);
  const sealed = seal(key, Buffer.from('secret'), 'ctx');
  assert.equal(unseal(key, sealed, 'ctx').toString(), 'secret');
  assert.throws(() => unseal(key, sealed, 'other'));
  assert.throws(() => unseal(randomBytes(32), sealed, 'ctx'));
});

test('a sealed value whose authentication tag was cut short is refused, however short', () => {
  const key = randomBytes(32);
  const raw = Buffer.from(seal(key, Buffer.alloc(0), 'ctx'), 'base64url');
  assert.equal(raw.length, 28);
  for (const tagBytes of [15, 12, 8, 4, 0]) {
    assert.throws(() => unseal(key, raw.subarray(0, 12 + tagBytes).toString('base64url'), 'ctx'), Error, `a ${tagBytes}-byte tag was accepted`);
  }
});
