import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureItem } from './errors.ts';
import { failureOf } from '../../executions/projection.ts';

const resultOf = (reason: 'declined_hard' | 'declined_soft' | 'declined_fraud', resultCode: string) => {
  const r = failureItem({ reason, resultCode }, 's').reason!;
  return `${r.category}/${r.result}`;
};

test('the codes of a fraud refusal the table names are FraudRisk (the issuer suspecting manipulation, Adyen\'s risk checks cancelling); a lost or blocked card a blocked instrument', () => {
  for (const code of ['100.400.319', '800.100.158', 'Cancelled:22']) assert.equal(resultOf('declined_hard', code), 'FraudRisk/FraudRisk', code);
  for (const code of ['800.100.160', '800.100.165', '800.100.168', '800.100.172']) assert.equal(resultOf('declined_hard', code), 'Instrument/BlockedInstrument', code);
  assert.equal(resultOf('declined_soft', 'unknown'), 'Operation/GenericRejection');
});

test('a fraud refusal the table does not name is FraudRisk by its reason (Adyen\'s FRAUD, Stripe\'s fraudulent), not a blocked instrument', () => {
  for (const code of ['Refused:20', 'fraudulent']) {
    const f = failureOf('fraud', code);
    assert.equal(f.reason, 'declined_fraud');
    assert.equal(resultOf(f.reason as 'declined_fraud', code), 'FraudRisk/FraudRisk', code);
  }
  assert.equal(resultOf('declined_hard', 'Refused:6'), 'Instrument/BlockedInstrument', 'an expired card stays a blocked instrument');
});
