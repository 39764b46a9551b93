import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkoutIdOf, checkoutIdPattern, checkoutLifetimeMs, payable, sessionFound } from './model.ts';

test('a checkout is payable while open and unexpired; paid wins over expired', () => {
  const t0 = 1_000_000;
  const open = { status: 'open' as const, expiresAt: t0 + checkoutLifetimeMs };
  assert.equal(payable(open, t0), 'ok');
  assert.equal(payable(open, t0 + checkoutLifetimeMs - 1), 'ok');
  assert.equal(payable(open, t0 + checkoutLifetimeMs), 'expired');
  assert.equal(payable({ ...open, status: 'paid' }, t0), 'paid');
  assert.equal(payable({ ...open, status: 'paid' }, t0 + checkoutLifetimeMs * 2), 'paid');
});

test('an expired checkout without a payment has no session; with a payment it keeps one', () => {
  assert.equal(sessionFound({ paymentId: undefined, expiresAt: 10 }, 9), true);
  assert.equal(sessionFound({ paymentId: undefined, expiresAt: 10 }, 10), false);
  assert.equal(sessionFound({ paymentId: 'p', expiresAt: 10 }, 1000), true);
});

test('checkout ids have the platform\'s shape and pass the resourcePath check clients apply', () => {
  const id = checkoutIdOf('0123456789abcdef0123456789abcdef');
  assert.match(id, checkoutIdPattern);
  assert.match(`/v1/checkouts/${id}/payment`, /^\/v[0-9]+\/checkouts\/[a-zA-Z0-9.-]+\/payment$/);
});
