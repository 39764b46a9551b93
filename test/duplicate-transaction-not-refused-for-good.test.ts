/**
 * A card saved before its first payment (the shopper's "save my card", or the
 * merchant's subscription card stored with POST /payment/instruments) is now taken back when "an
 * issuer refused it for good (hard or fraud)" (issuerRefusedForGood, docs/compatibility.md on
 * storeInstrument: "lost, stolen, fraud, expired, a wrong security code"). An OPP-family acquirer's
 * duplicate-transaction refusal, 800.110.100, is a per-merchant risk rule about the request
 * (the platform's reference: "Duplicate protection is a per-merchant risk rule"), not
 * the issuer's word on the card; it reads as `fraud` (800.110.* matched as a risk code), so the
 * shopper's or the merchant's saved card is deleted by a first charge the acquirer took for a repeat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declineReasonOf } from '../src/processors/result-codes.ts';
import { issuerRefusedForGood } from '../src/payments/model.ts';

test('an acquirer\'s duplicate-transaction refusal (800.110.100) is no issuer\'s refusal for good of the card', () => {
  const reason = declineReasonOf('800.110.100');
  const op = { id: 'op-1', reason };
  assert.equal(issuerRefusedForGood(op, [{ operationId: 'op-1', seq: 0, reason }]), false,
    `800.110.100 "duplicate transaction" reads as ${reason}: a saved card (a merchant's subscription card too) would be taken back by it`);
});
