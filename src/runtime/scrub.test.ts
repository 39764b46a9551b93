import { test } from 'node:test';
import assert from 'node:assert/strict';
import { luhnValid, scrubPans } from './scrub.ts';

test('luhn accepts valid test cards and rejects altered ones', () => {
  assert.equal(luhnValid('4200000000000000'), true);
  assert.equal(luhnValid('377777777777770'), true);
  assert.equal(luhnValid('4200000000000001'), false);
  assert.equal(luhnValid('4444444444444444'), false);
  assert.equal(luhnValid(''), false);
});

test('scrubber removes Luhn-valid digit runs, keeps other numbers', () => {
  assert.equal(scrubPans('card 4200000000000000 ok'), 'card [PAN REDACTED] ok');
  assert.equal(scrubPans('card 4200 0000 0000 0000'), 'card [PAN REDACTED]');
  assert.equal(scrubPans('id 8a82944a5fe82704015fff6cf5e572b4 amount 1234567890123'), 'id 8a82944a5fe82704015fff6cf5e572b4 amount 1234567890123');
});
