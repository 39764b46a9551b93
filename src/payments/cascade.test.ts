import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { declineCategories, type CascadeAccount, type CascadeRules, type DeclineCategory } from '../workflows/model.ts';
import { cascadeCategoryOf, nextStep, type CascadeAttempt, type CascadeStep } from './cascade.ts';
import { attemptsOfOperation, declineReasons, isOpen, operationStatuses, type DeclineReason, type OperationStatus } from './model.ts';

const account = (i: number): CascadeAccount => ({ id: `acc${i}`, name: `psp-${i}`, connector: 'simulator' });

const rules: fc.Arbitrary<CascadeRules> = fc.record({
  accounts: fc.integer({ min: 0, max: 5 }).map((n) => Array.from({ length: n }, (_, i) => account(i))),
  moveOn: fc.subarray([...declineCategories]),
});
const reason: fc.Arbitrary<DeclineReason | undefined> = fc.option(fc.constantFrom(...declineReasons), { nil: undefined });
const attempt = (seq: number): fc.Arbitrary<CascadeAttempt> => fc.record({
  seq: fc.constant(seq),
  accountId: fc.constant(`acc${seq}`),
  status: fc.constantFrom(...operationStatuses),
  reason,
});

test('cascadeCategoryOf is total over the decline reasons and answers declared categories', () => {
  for (const r of [...declineReasons, undefined]) assert.ok(declineCategories.includes(cascadeCategoryOf(r)), String(r));
  assert.equal(cascadeCategoryOf('soft'), 'soft');
  assert.equal(cascadeCategoryOf('provider_error'), 'error');
  assert.equal(cascadeCategoryOf('not_received'), 'error');
  assert.equal(cascadeCategoryOf('not_supported'), 'error', 'a request an account could not carry was never sent: it says nothing of the card');
  assert.equal(cascadeCategoryOf(undefined), 'error', 'a failure without a reason is the gateway\'s, not the card\'s');
  // Fraud and bad data stop the cascade like a bad card: another PSP must not be tried with them.
  for (const r of ['hard', 'fraud', 'invalid_request', 'authentication_failed', 'cancelled_by_shopper', 'expired'] as const) {
    assert.equal(cascadeCategoryOf(r), 'hard', r);
  }
});

test('no rules, no attempt: declined as the gateway\'s error; otherwise the first account first', () => {
  assert.deepEqual(nextStep({ accounts: [], moveOn: ['soft', 'error'] }, []), { kind: 'declined', category: 'error' });
  assert.deepEqual(nextStep({ accounts: [account(0), account(1)], moveOn: [] }, []), { kind: 'attempt', seq: 0, account: account(0) });
});

test('a soft decline moves on when soft is in moveOn, and stops on the last account', () => {
  const r: CascadeRules = { accounts: [account(0), account(1)], moveOn: ['soft'] };
  const soft = (seq: number): CascadeAttempt => ({ seq, accountId: `acc${seq}`, status: 'failed', reason: 'soft' });
  assert.deepEqual(nextStep(r, [soft(0)]), { kind: 'attempt', seq: 1, account: account(1) });
  assert.deepEqual(nextStep(r, [soft(0), soft(1)]), { kind: 'declined', category: 'soft' });
  assert.deepEqual(nextStep(r, [{ seq: 0, accountId: 'acc0', status: 'failed', reason: 'fraud' }]), { kind: 'declined', category: 'hard' });
});

test('an account that could not carry the request is passed over whatever the workflow moves on after; the last one ends it as an error', () => {
  const r: CascadeRules = { accounts: [account(0), account(1)], moveOn: ['soft'] };
  const unsupported = (seq: number): CascadeAttempt => ({ seq, accountId: `acc${seq}`, status: 'failed', reason: 'not_supported' });
  assert.deepEqual(nextStep(r, [unsupported(0)]), { kind: 'attempt', seq: 1, account: account(1) });
  assert.deepEqual(nextStep({ ...r, moveOn: [] }, [unsupported(0)]), { kind: 'attempt', seq: 1, account: account(1) });
  assert.deepEqual(nextStep(r, [unsupported(0), unsupported(1)]), { kind: 'declined', category: 'error' });
  assert.deepEqual(nextStep(r, [{ seq: 0, accountId: 'acc0', status: 'failed', reason: 'provider_error' }]), { kind: 'declined', category: 'error' }, 'a provider\'s failure still follows moveOn');
});

/** Any attempt list: the last attempt's seq within (or beyond) the accounts, earlier ones whatever they are. */
const anyAttempts = fc.integer({ min: 0, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => attempt(i))));

test('nextStep never proposes an attempt while the last one is open, never an account beyond the rules, and stops on categories not in moveOn', () => {
  fc.assert(fc.property(rules, anyAttempts, (r, attempts) => {
    const step = nextStep(r, attempts);
    const last = attempts.at(-1);
    if (last && isOpen(last.status)) assert.deepEqual(step, { kind: 'waiting' });
    if (last?.status === 'succeeded') assert.deepEqual(step, { kind: 'approved' });
    if (step.kind === 'attempt') {
      assert.ok(step.seq < r.accounts.length, 'within the rules');
      assert.deepEqual(step.account, r.accounts[step.seq]);
      assert.equal(step.seq, last ? last.seq + 1 : 0, 'the next account, none skipped or repeated');
      if (last) assert.ok(last.reason === 'not_supported' || r.moveOn.includes(cascadeCategoryOf(last.reason)), 'moves on only for a category it was told to, or past an account that could not carry the request');
    }
    if (last?.status === 'failed') {
      const category = cascadeCategoryOf(last.reason);
      const passedOver = last.reason === 'not_supported' && last.seq + 1 < r.accounts.length;
      if (!r.moveOn.includes(category) && !passedOver) assert.deepEqual(step, { kind: 'declined', category });
    }
  }), { numRuns: 1000 });
});

test('a cascade driven by nextStep tries each account at most once, in order, and always ends', () => {
  const answer = fc.record({ status: fc.constantFrom<OperationStatus[]>('succeeded', 'failed', 'failed', 'failed', 'unknown'), reason });
  fc.assert(fc.property(rules, fc.array(answer, { minLength: 6, maxLength: 6 }), (r, answers) => {
    const attempts: CascadeAttempt[] = [];
    let step: CascadeStep = nextStep(r, attempts);
    while (step.kind === 'attempt') {
      const a = answers[attempts.length]!;
      attempts.push({ seq: step.seq, accountId: step.account.id, status: a.status, reason: a.status === 'failed' ? a.reason : undefined });
      step = nextStep(r, attempts);
    }
    assert.ok(attempts.length <= r.accounts.length);
    assert.deepEqual(attempts.map((a) => a.accountId), r.accounts.slice(0, attempts.length).map((a) => a.id));
    const last = attempts.at(-1);
    const expected: CascadeStep = !last ? { kind: 'declined', category: 'error' }
      : last.status === 'succeeded' ? { kind: 'approved' }
      : last.status === 'unknown' ? { kind: 'waiting' }
      : { kind: 'declined', category: cascadeCategoryOf(last.reason) satisfies DeclineCategory };
    assert.deepEqual(step, expected);
  }), { numRuns: 500 });
});

test('the cascade goes on from the last attempt by seq, whatever times the attempts carry (a clock stepped back between them)', () => {
  const r: CascadeRules = { accounts: [account(0), account(1), account(2)], moveOn: ['soft'] };
  const made = (operationId: string, seq: number, createdAt: number, status: OperationStatus) =>
    ({ operationId, seq, createdAt, accountId: `acc${seq}`, status, reason: status === 'failed' ? 'soft' as const : undefined });
  // As the store lists them (oldest first): seq 1 was stamped before seq 0, and another operation's attempt in between.
  const listed = [made('op', 1, 900, 'failed'), made('other', 0, 950, 'succeeded'), made('op', 0, 1000, 'failed')];
  const ofOp = attemptsOfOperation(listed, 'op');
  assert.deepEqual(ofOp.map((a) => a.seq), [0, 1]);
  assert.deepEqual(nextStep(r, ofOp), { kind: 'attempt', seq: 2, account: account(2) });
  // In time order the last would be seq 0, and the cascade would ask for seq 1 again: a slot already taken.
  const unsorted = nextStep(r, listed.filter((a) => a.operationId === 'op'));
  assert.equal(unsorted.kind === 'attempt' ? unsorted.seq : undefined, 1);
});

test('rules changed while an attempt was open: the cascade goes on to the first account not tried yet, never back to one that declined', () => {
  const declined = (seq: number, accountId: string) => ({ seq, accountId, status: 'failed' as const, reason: 'soft' as const });
  // Made under [acc0, acc1, acc2]; acc0 declined; the operator has since put acc1 first.
  assert.deepEqual(nextStep({ accounts: [account(1), account(0), account(2)], moveOn: ['soft'] }, [declined(0, 'acc0')]), { kind: 'attempt', seq: 1, account: account(1) });
  // A new account put first is tried too, not skipped.
  assert.deepEqual(nextStep({ accounts: [account(3), account(0), account(1)], moveOn: ['soft'] }, [declined(0, 'acc0')]), { kind: 'attempt', seq: 1, account: account(3) });
  // Every account of the rules tried: the decline stands.
  assert.deepEqual(nextStep({ accounts: [account(1), account(0)], moveOn: ['soft'] }, [declined(0, 'acc0'), declined(1, 'acc1')]), { kind: 'declined', category: 'soft' });
});
