/** Property tests of the /v1 parsers: any form either parses into a request or into a refusal in the dialect's shape, never a throw. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FormError, parseForm } from './form.ts';
import { readBackOffice, readInitial, readRegistration, type Refusal } from './validate.ts';

const names = ['amount', 'currency', 'paymentType', 'paymentBrand', 'card.number', 'card.holder', 'card.expiryMonth', 'card.expiryYear', 'card.cvv',
  'merchantTransactionId', 'descriptor', 'testMode', 'shopperResultUrl', 'customParameters[forceResultCode]', 'customParameters[__proto__]',
  'customer.__proto__.x', 'cart.items[100].name', 'cart.items[0].price', 'threeDSecure.eci', 'bankAccount.country', 'createRegistration'];
const value = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom('92.00', '0.00', '١٢', 'EUR', 'JPY', 'PA', 'DB', 'CP', 'VISA', '4200000000000000', '05', '2034', '123', '__proto__', 'true'),
  fc.double().map(String), fc.bigInt().map(String));
const form = fc.dictionary(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 20 })), value, { maxKeys: 14 });

function assertRefusalShape(r: Refusal) {
  assert.match(r.code, /^\d{3}\.\d{3}\.\d{3}$/);
  for (const e of r.parameterErrors) {
    assert.equal(typeof e.name, 'string');
    assert.equal(typeof e.message, 'string');
    // Card data never goes back out in an error.
    if (e.name === 'card.number' || e.name === 'card.cvv') assert.ok(e.value === null || e.value === '[REDACTED]');
  }
}

test('every form is a request or a refusal with a result code, for each /v1 reader', () => {
  fc.assert(fc.property(form, (params) => {
    let parsed;
    try {
      parsed = parseForm(new URLSearchParams(params).toString());
    } catch (err) {
      assert.ok(err instanceof FormError);
      return;
    }
    assert.equal(({} as Record<string, unknown>).x, undefined, 'no prototype pollution');
    for (const read of [readInitial, readBackOffice, readRegistration]) {
      const r = read(parsed);
      if (!r.ok) assertRefusalShape(r.refusal);
    }
  }), { numRuns: 3000 });
});

test('oversized forms are refused by the form parser, not by a crash', () => {
  fc.assert(fc.property(fc.integer({ min: 513, max: 1500 }), fc.integer({ min: 0, max: 5000 }), (count, len) => {
    const body = Array.from({ length: count }, (_, i) => `p${i}=${'x'.repeat(len % 64)}`).join('&');
    assert.throws(() => parseForm(body), FormError);
  }), { numRuns: 30 });
});
