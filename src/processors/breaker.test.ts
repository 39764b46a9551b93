import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../runtime/clock.ts';
import { createBreakers, type CircuitState } from './breaker.ts';
import type { Connector, ConnectorRequest } from './connector.ts';
import type { Outcome } from './outcome.ts';
import type { Currency } from '../money/money.ts';
import { createMetrics } from '../runtime/metrics.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;
const approved: Answer = { kind: 'approved', pspReference: 'r', acquirerCode: '000.100.110', details: {} };
const softDecline: Answer = { kind: 'declined', reason: 'soft', acquirerCode: '800.100.152', message: undefined, pspReference: 'r', details: {} };
const providerError: Answer = { kind: 'declined', reason: 'provider_error', acquirerCode: '900.100.100', message: undefined, pspReference: undefined, details: {} };

/** A PSP that answers what `next` says (a value, a throw, or never), counting the calls it received. */
function psp() {
  const state = { next: approved as Answer | 'throw' | 'hang', calls: 0 };
  const connector: Connector = {
    name: 'fake', operations: ['authorize', 'capture'],
    async execute() {
      state.calls++;
      if (state.next === 'throw') throw new Error('connection reset');
      if (state.next === 'hang') return new Promise<Answer>(() => {});
      return state.next;
    },
    lookup: async () => undefined,
  };
  return { state, connector };
}

const req = (operation: ConnectorRequest['operation'] = 'authorize'): ConnectorRequest =>
  ({ operation, attemptId: 'a', amount: { amount: 100, currency: 'EUR' as Currency }, live: false, testParameters: {} });
const outcome = (c: Connector, operation?: ConnectorRequest['operation']) => c.execute(req(operation)).then((o) => o.kind === 'declined' ? o.reason : o.kind, () => 'thrown');

test('failures in a row open the circuit; an open circuit declines new payments without calling, follow-ups still go', async () => {
  const clock = manualClock();
  const changes: CircuitState[] = [];
  const breakers = createBreakers({ clock, settings: { failureThreshold: 3, openMs: 10_000 }, onChange: (_id, s) => changes.push(s) });
  const { state, connector } = psp();
  const c = breakers.guard('acc', connector, 1000);
  assert.equal(c.timeoutMs, 1000);
  state.next = 'throw';
  assert.equal(await outcome(c), 'thrown');
  state.next = providerError;
  assert.equal(await outcome(c), 'provider_error');
  // A card's decline is the PSP working: it breaks the streak.
  state.next = softDecline;
  assert.equal(await outcome(c), 'soft');
  assert.equal(breakers.view('acc').consecutiveFailures, 0);
  state.next = 'throw';
  for (let i = 0; i < 3; i++) await outcome(c);
  assert.deepEqual(breakers.view('acc'), { state: 'open', consecutiveFailures: 3, retryAt: clock.now() + 10_000 });
  assert.deepEqual(changes, ['open']);

  const before = state.calls;
  const refused = await c.execute(req());
  assert.equal(refused.kind === 'declined' && refused.reason, 'provider_error');
  assert.equal(refused.kind === 'declined' && refused.details.circuit, 'open');
  assert.equal(state.calls, before, 'the PSP was not called');
  state.next = approved;
  assert.equal(await outcome(c, 'capture'), 'approved', 'a capture goes to the account holding the payment');
  assert.equal(breakers.view('acc').state, 'closed', 'and a good answer closes the circuit');
  assert.equal(breakers.view('other').state, 'closed', 'each account has its own circuit');
});

test('after the open period one payment probes: success closes, failure opens again; others wait meanwhile', async () => {
  const clock = manualClock();
  const breakers = createBreakers({ clock, settings: { failureThreshold: 1, openMs: 5_000 } });
  const { state, connector } = psp();
  const c = breakers.guard('acc', connector, 50);
  state.next = 'hang';
  assert.equal(await outcome(c), 'thrown', 'a timeout is a failure (thrown: the engine records it unknown)');
  assert.equal(breakers.view('acc').state, 'open');
  clock.advance(5_000);
  assert.equal(breakers.view('acc').state, 'half_open');
  const calls = state.calls;
  const probe = outcome(c);
  assert.equal(await outcome(c), 'provider_error', 'a second payment does not probe at the same time');
  assert.equal(await probe, 'thrown');
  assert.equal(state.calls, calls + 1);
  assert.equal(breakers.view('acc').state, 'open', 'the failed probe opens it again');
  clock.advance(5_000);
  state.next = approved;
  assert.equal(await outcome(c), 'approved');
  assert.deepEqual(breakers.view('acc'), { state: 'closed', consecutiveFailures: 0, retryAt: undefined });
});

test('the guarded connector hands lookups their hint and keeps the PSP\'s own 3-D Secure completion, both bounded', async () => {
  const breakers = createBreakers({ clock: manualClock(), settings: { failureThreshold: 3, openMs: 10_000 } });
  const hints: unknown[] = [];
  const returns: unknown[] = [];
  const connector: Connector = {
    ...psp().connector,
    lookup: async (_id, hint) => { hints.push(hint); return approved; },
    complete: async (back) => { returns.push(back); return back.parameters.hang ? new Promise<Answer>(() => {}) : approved; },
  };
  const c = breakers.guard('acc', connector, 50);
  const hint = { operation: 'capture' as const, amount: { amount: 100, currency: 'EUR' as Currency }, originalReference: 'pi_1', pspReference: undefined };
  assert.deepEqual(await c.lookup('a', hint), approved);
  assert.deepEqual(hints, [hint]);
  assert.deepEqual(await c.complete!({ attemptId: 'a', amount: { amount: 100, currency: 'EUR' as Currency }, pspReference: 'r', parameters: {} }), approved);
  await assert.rejects(c.complete!({ attemptId: 'a', amount: { amount: 100, currency: 'EUR' as Currency }, pspReference: 'r', parameters: { hang: '1' } }), /no answer within 50 ms/);
  assert.equal(returns.length, 2);
  assert.equal(breakers.guard('acc', psp().connector, 50).complete, undefined, 'a connector without one gets none');
});

test('a request the connector could not send (not_supported) neither closes a half-open circuit nor resets its failures', async () => {
  const clock = manualClock();
  const breakers = createBreakers({ clock, settings: { failureThreshold: 3, openMs: 10_000 } });
  const { state, connector } = psp();
  const c = breakers.guard('acc', connector, 1000);
  const notSupported: Answer = { kind: 'declined', reason: 'not_supported', acquirerCode: undefined, message: 'cannot be sent', pspReference: undefined, details: {} };
  state.next = providerError;
  await outcome(c); await outcome(c);
  state.next = notSupported;
  assert.equal(await outcome(c), 'not_supported');
  assert.equal(breakers.view('acc').consecutiveFailures, 2, 'the failures in a row still stand');
  state.next = providerError;
  await outcome(c);
  assert.equal(breakers.view('acc').state, 'open');
  clock.advance(10_000);
  // The probe's request could not be sent: the circuit stays half-open, and the next payment probes.
  state.next = notSupported;
  assert.equal(await outcome(c), 'not_supported');
  assert.equal(breakers.view('acc').state, 'half_open');
  state.next = approved;
  assert.equal(await outcome(c), 'approved');
  assert.equal(breakers.view('acc').state, 'closed');
});

test('the circuit state gauge reads each circuit as its view does: open past its period is half-open before any payment probes it', async () => {
  const clock = manualClock();
  const metrics = createMetrics();
  const breakers = createBreakers({ clock, settings: { failureThreshold: 1, openMs: 10_000 }, onChange: (id, s) => metrics.pspCircuit(id, s) });
  metrics.setCircuitProbe(() => breakers.states());
  const { state, connector } = psp();
  state.next = 'throw';
  await outcome(breakers.guard('acc', connector, 1000));
  const level = async () => /switchyard_psp_circuit_state\{psp_account="acc"\} (\d)/.exec((await metrics.scrape()).body)?.[1];
  assert.equal(await level(), '2', 'open');
  clock.advance(10_000);
  assert.deepEqual(breakers.states(), [['acc', 'half_open']]);
  assert.equal(await level(), '1', 'half-open, as the admin view shows it, though no payment has come yet');
});
