/**
 * Exactly one wrong field is answered with that field's own code and `parameterErrors` naming it,
 * the card checks (an expired card, a number failing its check digit, a number of another brand, a
 * security code of the wrong length for the brand) as the field table's own checks; the value is
 * not echoed (it is card data).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, type Gateway } from './support/harness.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(() => gw.close());

const cases: [string, Record<string, string>, string, string][] = [
  ['an expired card (the documented example)', { 'card.expiryYear': '2020' }, '100.100.303', 'card.expiryYear'],
  ['a number failing Luhn', { 'card.number': '4200000000000001' }, '100.100.101', 'card.number'],
  ['a VISA number sent as MASTER', { paymentBrand: 'MASTER' }, '100.100.700', 'paymentBrand'],
  ['a three-digit CVV on an AMEX', { 'card.number': '377777777777770', paymentBrand: 'AMEX', 'card.cvv': '123' }, '100.100.601', 'card.cvv'],
];

for (const [what, params, code, field] of cases) {
  test(`exactly one wrong field, ${what}: ${code} with parameterErrors naming it`, async () => {
    const r = await pay(gw, params);
    assert.equal(r.status, 400);
    assert.equal(r.body.result.code, code);
    assert.ok(Array.isArray(r.body.result.parameterErrors), `parameterErrors missing: ${JSON.stringify(r.body.result)}`);
    const names = r.body.result.parameterErrors.map((e: { name: string }) => e.name);
    assert.ok(r.body.result.parameterErrors.every((e: { value: unknown }) => e.value === null), 'no card data echoed');
    assert.ok(names.some((n: string) => n === field || (field === 'card.expiryYear' && n === 'card.expiryMonth') || (field === 'paymentBrand' && n === 'card.number')), `named: ${names}`);
  });
}

test('control: the field-table checks answer their own code with parameterErrors', async () => {
  const r = await pay(gw, { 'customer.email': 'bad' });
  assert.equal(r.body.result.code, '100.900.101');
  assert.equal(r.body.result.parameterErrors[0].name, 'customer.email');
});
