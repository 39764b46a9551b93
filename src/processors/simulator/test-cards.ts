/**
 * The simulated acquirer's test cards: numbers that, in test mode, answer an authorization or a
 * sale the way an issuer would for one common reason, so an integration can be tried against each
 * decline without setting up account rules. The numbers are Luhn-valid VISA test-range numbers
 * that no real card carries (the 4000 0000 0000 … block developers know from PSP sandboxes); the
 * codes are the OPP family's, so the neutral reason each decline gets comes from
 * `declineReasonOf` like any acquirer's answer (soft: a cascade moves on; hard, fraud: it stops).
 * The README's "Test cards and switches" table lists the same rows.
 */
export interface TestCard {
  readonly number: string;
  /** What a developer would call the reason. */
  readonly reason: string;
  /** `decline`: the PSP answers with `code`; `no_answer`: it processes the request and the answer never comes back. */
  readonly behaviour: { readonly kind: 'decline'; readonly code: string } | { readonly kind: 'no_answer' };
}

export const testCards: readonly TestCard[] = [
  { number: '4000000000000002', reason: 'do not honour', behaviour: { kind: 'decline', code: '800.100.152' } },
  { number: '4000000000009995', reason: 'insufficient funds', behaviour: { kind: 'decline', code: '800.100.155' } },
  { number: '4000000000009623', reason: 'limit exceeded', behaviour: { kind: 'decline', code: '800.100.162' } },
  { number: '4000000000000069', reason: 'expired card', behaviour: { kind: 'decline', code: '800.100.157' } },
  { number: '4000000000009987', reason: 'lost card (pick up)', behaviour: { kind: 'decline', code: '800.100.171' } },
  { number: '4000000000009979', reason: 'stolen card', behaviour: { kind: 'decline', code: '800.100.159' } },
  { number: '4100000000000019', reason: 'suspected fraud', behaviour: { kind: 'decline', code: '100.400.319' } },
  { number: '4000000000000127', reason: 'invalid CVV', behaviour: { kind: 'decline', code: '800.100.153' } },
  { number: '4000000000003006', reason: 'no answer (times out at the PSP)', behaviour: { kind: 'no_answer' } },
];

const byNumber = new Map(testCards.map((c) => [c.number, c]));

/** The catalogue's entry for a card number, if it is one of the test cards. */
export function testCardOf(pan: string | undefined): TestCard | undefined {
  return pan === undefined ? undefined : byNumber.get(pan);
}
