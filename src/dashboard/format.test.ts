import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAmount } from './format.ts';

test('parseAmount reads major units with a point or a comma, in the currency\'s decimals', () => {
  assert.equal(parseAmount('92.00', 'EUR'), 9200);
  assert.equal(parseAmount('92,5', 'EUR'), 9250);
  assert.equal(parseAmount(' 7 ', 'EUR'), 700);
  assert.equal(parseAmount('1.234', 'KWD'), 1234);
  assert.equal(parseAmount('1500', 'JPY'), 1500);
  assert.equal(parseAmount('1.001', 'EUR'), undefined, 'finer than a cent');
  assert.equal(parseAmount('0', 'EUR'), undefined, 'nothing to move');
  assert.equal(parseAmount('-5', 'EUR'), undefined);
  assert.equal(parseAmount('5', 'XXX'), undefined, 'no such currency');
});

test('parseAmount refuses a comma before exactly three digits: "1,000" KWD is not read as 1.000 (one thousandth of what a thousand-separator reader meant)', () => {
  assert.equal(parseAmount('1,000', 'KWD'), undefined);
  assert.equal(parseAmount('1,500', 'BHD'), undefined);
  assert.equal(parseAmount('1,000', 'EUR'), undefined);
  assert.equal(parseAmount('1,000', 'JPY'), undefined);
  assert.equal(parseAmount('1,5', 'KWD'), 1500, 'a comma before fewer digits is a decimal mark');
  assert.equal(parseAmount('1.000', 'KWD'), 1000, 'a point is always the decimal mark');
});
