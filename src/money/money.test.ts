import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exampleAmount, exponentOf, formatMajorUnits, isCurrency, parseMajorUnits, type Currency } from './money.ts';

const c = (s: string) => { assert.ok(isCurrency(s)); return s as Currency; };

test('exponents follow ISO 4217', () => {
  assert.equal(exponentOf(c('EUR')), 2);
  assert.equal(exponentOf(c('JPY')), 0);
  assert.equal(exponentOf(c('KWD')), 3);
  assert.equal(isCurrency('XYZ'), false);
  assert.equal(isCurrency('eur'), false);
});

test('major-unit strings round-trip through minor units', () => {
  assert.deepEqual(parseMajorUnits('92.00', c('EUR')), { amount: 9200, currency: 'EUR' });
  assert.deepEqual(parseMajorUnits('92', c('EUR')), { amount: 9200, currency: 'EUR' });
  assert.deepEqual(parseMajorUnits('1500', c('JPY')), { amount: 1500, currency: 'JPY' });
  assert.deepEqual(parseMajorUnits('1.250', c('KWD')), { amount: 1250, currency: 'KWD' });
  assert.equal(parseMajorUnits('92.0', c('EUR')), undefined);
  assert.equal(parseMajorUnits('15.00', c('JPY')), undefined);
  assert.equal(parseMajorUnits('-1.00', c('EUR')), undefined);
  assert.equal(parseMajorUnits('１２.００', c('EUR')), undefined);
  assert.equal(formatMajorUnits({ amount: 5, currency: c('EUR') }), '0.05');
  assert.equal(formatMajorUnits({ amount: 9200, currency: c('EUR') }), '92.00');
  // A negative amount keeps its sign in front (a balance, a net that went below zero).
  assert.equal(formatMajorUnits({ amount: -5, currency: c('EUR') }), '-0.05');
  assert.equal(formatMajorUnits({ amount: -9200, currency: c('EUR') }), '-92.00');
  assert.equal(formatMajorUnits({ amount: -1255, currency: c('KWD') }), '-1.255');
  assert.equal(formatMajorUnits({ amount: -1500, currency: c('JPY') }), '-1500');
  assert.equal(formatMajorUnits({ amount: 1500, currency: c('JPY') }), '1500');
  assert.equal(formatMajorUnits({ amount: 1250, currency: c('KWD') }), '1.250');
});

test('every parsed amount formats back to the same text with full decimals', () => {
  for (let i = 0; i < 2000; i++) {
    const amount = Math.floor(Math.random() * 1e12);
    for (const cur of ['EUR', 'JPY', 'KWD']) {
      const m = { amount, currency: c(cur) };
      assert.deepEqual(parseMajorUnits(formatMajorUnits(m), m.currency), m);
    }
  }
});

test('the example amount a refusal names is written in the currency\'s own decimals, and reads back in it', () => {
  for (const [currency, text] of [['EUR', '10.00'], ['JPY', '10'], ['KWD', '10.000']] as const) {
    assert.equal(exampleAmount(currency), text);
    assert.deepEqual(parseMajorUnits(text, c(currency)), { amount: 10 * 10 ** exponentOf(c(currency)), currency });
  }
});
