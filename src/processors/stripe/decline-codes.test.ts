/**
 * Stripe's decline codes read into neutral outcomes, against Stripe's published decline-code list:
 * `duplicate_transaction` ("a transaction with identical amount and credit card information was
 * submitted very recently") and `pin_try_exceeded` ("the customer must use another card") were
 * read soft, so the default cascade sent the card on to the next PSP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declineOfError, outcomeOfIntent } from './outcomes.ts';
import { cascadeCategoryOf } from '../../payments/cascade.ts';

// Stripe: "duplicate_transaction | A transaction with identical amount and credit card information
// was submitted very recently. | Check to see if a recent payment already exists." Unknown to the
// connector, it reads soft: the default cascade then sends the same card and amount to the next
// PSP, which charges it, while the identical payment Stripe refers to already stands.
test('Stripe duplicate_transaction does not send the card on to the next PSP', () => {
  const o = outcomeOfIntent({
    id: 'pi_dup', object: 'payment_intent', status: 'requires_payment_method',
    last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'duplicate_transaction', message: 'Your card was declined.' },
  });
  assert.equal(o?.kind, 'declined');
  assert.notEqual(cascadeCategoryOf(o?.kind === 'declined' ? o.reason : undefined), 'soft');
});

// Stripe: "pin_try_exceeded | The allowable number of PIN tries was exceeded. | The customer must
// use another card or method of payment." Stripe's next step is another card: the card itself is
// done (as the OPP reading now has "PIN tried too often" hard). It reads soft, so the cascade tries it again.
test('Stripe pin_try_exceeded is a hard decline (Stripe: the customer must use another card)', () => {
  const o = declineOfError({ type: 'card_error', code: 'card_declined', decline_code: 'pin_try_exceeded' }, 'pi_pin');
  assert.equal(o.kind, 'declined');
  assert.equal(o.kind === 'declined' ? o.reason : undefined, 'hard');
});
