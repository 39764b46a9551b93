import { test } from 'node:test';
import assert from 'node:assert/strict';
import { challengeResultOf, eciOf, noAuthenticationRequest, planAuthentication, simulatorCards } from './model.ts';
import { detectBrand } from '../vault/card.ts';
import { luhnValid } from '../runtime/scrub.ts';

test('every simulator card is Luhn-valid and of a brand the gateway recognizes', () => {
  for (const pan of simulatorCards.keys()) {
    assert.ok(luhnValid(pan), pan);
    assert.ok(detectBrand(pan), pan);
  }
});

test('cards outside the table take no part in 3-D Secure unless the merchant says enrolled', () => {
  assert.deepEqual(planAuthentication('4200000000000000', 'VISA', noAuthenticationRequest), { kind: 'none' });
  assert.deepEqual(planAuthentication('4200000000000000', 'VISA', { ...noAuthenticationRequest, enrolled: true }), { kind: 'challenge' });
  const frictionless = planAuthentication('4200000000000000', 'VISA', { enrolled: true, flow: 'frictionless', challengeIndicator: undefined });
  assert.deepEqual(frictionless, { kind: 'frictionless', result: { status: 'Y', eci: '05', flow: 'frictionless' } });
});

test('3DS2_enrolled=false takes a table card out; the flow switch and challenge indicator 04 steer enrolled cards only', () => {
  assert.deepEqual(planAuthentication('4200000000000042', 'VISA', { ...noAuthenticationRequest, enrolled: false }), { kind: 'none' });
  assert.equal(planAuthentication('4200000000000042', 'VISA', { ...noAuthenticationRequest, flow: 'frictionless' }).kind, 'frictionless');
  assert.equal(planAuthentication('4200000000000091', 'VISA', { ...noAuthenticationRequest, flow: 'challenge' }).kind, 'challenge');
  assert.equal(planAuthentication('4200000000000091', 'VISA', { ...noAuthenticationRequest, challengeIndicator: '04' }).kind, 'challenge');
  assert.equal(planAuthentication('4200000000000091', 'VISA', { ...noAuthenticationRequest, challengeIndicator: '01' }).kind, 'frictionless');
  // An issuer's technical error is not something a merchant's switch can talk away.
  assert.equal(planAuthentication('4012001037461114', 'VISA', { ...noAuthenticationRequest, flow: 'frictionless' }).kind, 'refused');
});

test('ECI values follow the scheme: Mastercard family 02/01/00, others 05/06/07', () => {
  assert.deepEqual(['Y', 'A', 'N', 'U'].map((s) => eciOf('MASTER', s as never)), ['02', '01', '00', undefined]);
  assert.deepEqual(['Y', 'A', 'N', 'U'].map((s) => eciOf('VISA', s as never)), ['05', '06', '07', undefined]);
  assert.deepEqual(challengeResultOf('MAESTRO', 'completed'), { status: 'Y', eci: '02', flow: 'challenge' });
  assert.deepEqual(challengeResultOf('AMEX', 'failed'), { status: 'N', eci: '07', flow: 'challenge' });
});
