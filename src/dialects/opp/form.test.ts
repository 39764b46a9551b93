import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customParameters, FormError, nest, parseForm, utf8Body } from './form.ts';

test('dotted and bracketed names nest into echo objects', () => {
  const p = parseForm('customer.givenName=Jane&customer.browser.language=de&cart.items[0].name=Hat&cart.items[1].name=Cap&cart.items[1].quantity=2&billing.city=Graz');
  assert.deepEqual(nest(p, 'customer'), { givenName: 'Jane', browser: { language: 'de' } });
  assert.deepEqual(nest(p, 'cart'), { items: [{ name: 'Hat' }, { name: 'Cap', quantity: '2' }] });
  assert.deepEqual(nest(p, 'billing'), { city: 'Graz' });
  assert.equal(nest(p, 'shipping'), undefined);
});

test('hostile names stay inert', () => {
  const p = parseForm('__proto__=x&customer.__proto__.polluted=1&constructor.prototype.polluted=1&customParameters[__proto__]=y');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(p['__proto__'], 'x');
  const c = nest(p, 'customer');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.ok(c === undefined || Object.getPrototypeOf(c) === Object.prototype);
  assert.deepEqual(Object.keys(customParameters(p) ?? {}), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('huge cart indexes and parameter floods are refused', () => {
  assert.equal(nest(parseForm('cart.items[100000].name=x'), 'cart'), undefined);
  assert.throws(() => parseForm(Array.from({ length: 600 }, (_, i) => `p${i}=1`).join('&')), FormError);
});

test('empty values count as absent', () => {
  const p = parseForm('amount=&currency=EUR');
  assert.equal(p.amount, undefined);
  assert.equal(p.currency, 'EUR');
});

test('a parameter given twice with different values is refused by name; the same value twice is one value', () => {
  assert.throws(() => parseForm('amount=10.00&currency=EUR&amount=1000.00'), /parameter amount is given twice with different values/);
  assert.equal(parseForm('amount=10.00&amount=10.00').amount, '10.00');
  assert.throws(() => parseForm('paymentType=RF&paymentType=RV'), FormError);
});

test('a percent-escape of a byte that is not UTF-8 is refused, naming the parameter; UTF-8 text, and a replacement character written as one, are read', () => {
  assert.throws(() => parseForm('amount=1.00&merchantTransactionId=caf%E9'), /parameter merchantTransactionId is not UTF-8/);
  assert.throws(() => parseForm('customer.givenName=%C3%A9%E9%EF%BF%BD'), /parameter customer.givenName is not UTF-8/);
  assert.equal(parseForm('merchantTransactionId=caf%C3%A9').merchantTransactionId, 'café');
  assert.equal(parseForm('merchantTransactionId=a%EF%BF%BDb').merchantTransactionId, 'a\uFFFDb');
  assert.equal(parseForm('merchantTransactionId=a\uFFFDb').merchantTransactionId, 'a\uFFFDb');
  assert.throws(() => utf8Body(Buffer.from([0x61, 0x3d, 0xe9])), /the body is not UTF-8/);
  assert.equal(utf8Body(Buffer.from('a=é', 'utf8')), 'a=é');
});
