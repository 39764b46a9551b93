import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shopperContextOf } from './shopper.ts';

test('the shopper an executions request describes, under the engine\'s names; the authorize request\'s browser wins over the execution\'s', () => {
  assert.deepEqual(shopperContextOf(
    { customer: { email: 'jane@example.com' }, clientContext: { ipAddress: '203.0.113.7', userAgent: 'Old/1.0' } },
    { clientContext: { userAgent: 'Mozilla/5.0', screenHeight: 900, javaEnabled: false, colorDepth: 24, timeZoneOffset: -60 } },
  ), {
    customer: {
      email: 'jane@example.com', ip: '203.0.113.7',
      browser: { userAgent: 'Mozilla/5.0', screenHeight: '900', screenColorDepth: '24', timezone: '-60', javaEnabled: 'false' },
    },
  });
  assert.deepEqual(shopperContextOf({ clientContext: { userAgent: 'Old/1.0' } }, undefined), { customer: { browser: { userAgent: 'Old/1.0' } } });
});

test('what is not of its documented form is left out, never refused: the meta is the merchant\'s own', () => {
  assert.deepEqual(shopperContextOf(
    { customer: { email: 'not an address' }, clientContext: { ipAddress: 'localhost' } },
    { clientContext: { userAgent: { nested: true }, language: 'x'.repeat(100), acceptHeader: 'text/html\u0000', screenWidth: '4111 1111 1111 1111' } },
  ), {});
  assert.deepEqual(shopperContextOf(undefined, { clientContext: { screenHeight: 'abc', timeZoneOffset: 'CET', javaEnabled: 'yes', colorDepth: 24.5 } }), {},
    'numbers and flags only of their form: a PSP would refuse the payment over them');
  assert.deepEqual(shopperContextOf(undefined, 'text'), {});
  assert.deepEqual(shopperContextOf([], { clientContext: [] }), {});
});
