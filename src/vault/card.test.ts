import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { detectBrand, isExpired, Pan, Cvv } from './card.ts';

test('brands are detected from the IIN', () => {
  assert.equal(detectBrand('4200000000000000'), 'VISA');
  assert.equal(detectBrand('5200000000000007'), 'MASTER');
  assert.equal(detectBrand('2223000048400011'), 'MASTER');
  assert.equal(detectBrand('377777777777770'), 'AMEX');
  assert.equal(detectBrand('6761301000993772'), 'MAESTRO');
  assert.equal(detectBrand('6011000990139424'), 'DISCOVER');
  assert.equal(detectBrand('3530111333300000'), 'JCB');
  assert.equal(detectBrand('36227206271667'), 'DINERS');
  assert.equal(detectBrand('9999999999999999'), undefined);
});

test('a Pan never prints its digits', () => {
  const pan = new Pan('4200000000000000');
  const cvv = new Cvv('123');
  const text = [String(pan), JSON.stringify({ pan, cvv }), inspect({ pan, cvv }), `${pan}${cvv}`].join(' ');
  assert.ok(!text.includes('4200000000000000'));
  assert.ok(!text.includes('123'));
  assert.equal(pan.reveal(), '4200000000000000');
  assert.equal(pan.bin, '420000');
  assert.equal(pan.last4, '0000');
});

test('cards expire after the last day of their month', () => {
  const now = Date.parse('2026-05-31T23:59:00Z');
  assert.equal(isExpired('05', '2026', now), false);
  assert.equal(isExpired('04', '2026', now), true);
  assert.equal(isExpired('12', '2025', now), true);
});
