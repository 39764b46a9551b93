import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCardDataScreen, holdsSecurityCode, securityCodeMask } from './free-text.ts';

const screen = createCardDataScreen(randomBytes(32));

test('a card number in free text is masked to its last four digits and a keyed tag; equal inputs mask equally', () => {
  const a = screen.mask('order 4111111111111111');
  assert.match(a, /^order \*{4}1111_[0-9a-f]{12}$/);
  assert.equal(screen.mask('order 4111111111111111'), a);
  assert.equal(screen.mask('order 4111-1111-1111-1111'), a, 'the same digits however they are separated');
  assert.notEqual(screen.mask('4242424242424242'), screen.mask('4111111111111111'));
  // Two numbers sharing their last four digits still differ.
  assert.notEqual(screen.mask('5500000000001111'), screen.mask('4111111111111111'));
  assert.equal(screen.mask('order 4111111111111112'), 'order 4111111111111112', 'not Luhn-valid: left alone');
  assert.equal(screen.mask('123456789012'), '123456789012', 'too short for a card number');
  assert.ok(!screen.holdsPan(screen.mask('4111111111111111')), 'a mask is not itself a card number');
});

test('another key masks differently (nothing to correlate between installations)', () => {
  assert.notEqual(createCardDataScreen(randomBytes(32)).mask('4111111111111111'), screen.mask('4111111111111111'));
});

test('JSON: strings, keys and PAN-looking integers are masked; refused paths are reported; skipped paths kept', () => {
  const r = screen.maskJson({ a: { b: ['x 4111111111111111'] }, n: 4111111111111111, ['4111111111111111']: 1, id: '4111111111111111', small: 42 }, { skip: (p) => p === 'id' });
  assert.ok(r.ok);
  const v = r.value as any;
  assert.match(v.a.b[0], /^x \*{4}1111_/);
  assert.match(v.n, /^\*{4}1111_/);
  assert.equal(v.id, '4111111111111111');
  assert.equal(v.small, 42);
  assert.ok(Object.keys(v).every((k) => !k.includes('4111111111111111')));
  const refused = screen.maskJson({ data: { holderName: 'Jo 4111 1111 1111 1111' } }, { refuse: (p) => p === 'data.holderName' });
  assert.deepEqual(refused, { ok: false, path: 'data.holderName' });
  assert.deepEqual(screen.maskJson({ data: { holderName: 'Jo Doe' } }, { refuse: (p) => p === 'data.holderName' }), { ok: true, value: { data: { holderName: 'Jo Doe' } } });
});

test('a security code: only under a name that says so, and only a value of three or four digits', () => {
  for (const name of ['cvv', 'CVV2', 'cvc', 'card.cvc', 'customParameters[card.cvv]', 'securityCode', 'card_security_code', 'meta.card.CVN', 'a[0].cvc2',
    'SHOPPER_cvv', 'customParameters[SHOPPER_CVV2]', 'SHOPPER_securityCode', 'cvv_code', 'cvvNumber', 'cardVerificationValue',
    'securitycode', 'cardcvv', 'card.cardcvc', 'cardsecuritycode', 'verificationcode', 'SECURITYCODE', 'CARDCVV', 'SHOPPER_securitycode',
    'CVVCode', 'CVCNumber', 'SHOPPER_CVVNumber', 'customParameters[CVVCode]', 'cardCVCValue']) {
    assert.ok(holdsSecurityCode(name, '123'), name);
    assert.ok(holdsSecurityCode(name, '0123'), name);
  }
  assert.ok(holdsSecurityCode('cvv', 737), 'a code sent as a JSON number');
  for (const [name, value] of [['cvv', 'on'], ['cvv', '12345'], ['cvv', ''], ['cvv_check', '123'], ['cvvPolicy', '123'], ['cvvResult', '123'], ['SHOPPER_cvvLength', '3'], ['securityQuestion', '123'], ['codeName', '123'], ['code', '123'], ['cid', '1234'], ['promo', '123'], ['cvv', true]] as const) {
    assert.ok(!holdsSecurityCode(name, value), `${name}=${String(value)}`);
  }
  const r = screen.maskJson({ meta: { cvv: '123', card: { securityCode: 456 }, cvvPolicy: 'strict' }, securityCode: '789' }, { skip: (p) => p === 'securityCode' });
  assert.deepEqual(r, { ok: true, value: { meta: { cvv: securityCodeMask, card: { securityCode: securityCodeMask }, cvvPolicy: 'strict' }, securityCode: '789' } });
});

test('a name of thousands of words is read in time linear in its length (every run of words joined anew was cubic: seconds for a 4 KB key)', () => {
  assert.equal(holdsSecurityCode(`meta.${'a_'.repeat(30_000)}`, '123'), false);
  assert.equal(holdsSecurityCode(`meta.${'a_'.repeat(30_000)}card_security_code`, '123'), true, 'a code name at its end is still found');
});
