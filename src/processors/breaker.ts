import type { Clock } from '../runtime/clock.ts';
import type { Connector, ConnectorOperation, ShopperReturn } from './connector.ts';
import type { Outcome } from './outcome.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

/**
 * A PSP account's circuit: `closed` (calls go through), `open` (taken out of cascades: new
 * payments skip it without calling), `half_open` (the open period is over: one payment probes it).
 */
export const circuitStates = ['closed', 'open', 'half_open'] as const;
export type CircuitState = (typeof circuitStates)[number];

export interface CircuitView {
  readonly state: CircuitState;
  /** Failures in a row (provider errors, timeouts, broken answers) since the last good answer. */
  readonly consecutiveFailures: number;
  /** While open: when a payment may probe the account again (ms since the epoch). */
  readonly retryAt: number | undefined;
}

export interface BreakerSettings {
  /** Failures in a row that open the circuit. */
  readonly failureThreshold: number;
  /** How long an open circuit keeps the account out of cascades before a probe. */
  readonly openMs: number;
}

export const defaultBreakerSettings: BreakerSettings = { failureThreshold: 5, openMs: 30_000 };

/** Operations that open a payment: the ones a cascade routes, and so the ones an open circuit skips. */
const routed: ReadonlySet<ConnectorOperation> = new Set(['authorize', 'sale', 'credit']);

export interface Breakers {
  view(accountId: string): CircuitView;
  /**
   * The account's connector behind its circuit and its request timeout: a call that outlasts the
   * timeout is abandoned (thrown, so the engine records it unknown); timeouts, throws and provider
   * errors count as failures, any other answer as success. While the circuit is open, opening
   * operations are declined as `provider_error` without calling, so a cascade moves on to its next
   * account; follow-ups (capture, refund, void) always go to the account holding the payment.
   */
  guard(accountId: string, connector: Connector, timeoutMs: number): Connector;
  /** Drops the circuits of accounts not in `existing` (removed ones); the ids dropped. */
  forgetAllBut(existing: ReadonlySet<string>): string[];
  /** Every circuit this node keeps, each as `view` shows it (an open one past its period half-open). */
  states(): [accountId: string, state: CircuitState][];
}

interface Circuit { state: CircuitState; failures: number; openedAt: number; probing: boolean }

/**
 * Circuit breakers, one per PSP account, kept in this process's memory: each node judges the PSP
 * by its own calls (see docs/architecture.md, "PSP accounts and safety"). `onChange` hears every
 * state change (metrics, logs).
 */
export function createBreakers(deps: { clock: Clock; settings?: BreakerSettings; onChange?: (accountId: string, state: CircuitState) => void }): Breakers {
  const settings = deps.settings ?? defaultBreakerSettings;
  const circuits = new Map<string, Circuit>();
  const circuitOf = (id: string) => {
    let c = circuits.get(id);
    if (!c) { c = { state: 'closed', failures: 0, openedAt: 0, probing: false }; circuits.set(id, c); }
    return c;
  };
  const move = (id: string, c: Circuit, state: CircuitState) => {
    if (c.state === state) return;
    c.state = state;
    deps.onChange?.(id, state);
  };
  /** Whether a new payment may call the account now; in half-open, only one at a time (the probe). */
  function admit(id: string): { admitted: boolean; probe: boolean } {
    const c = circuitOf(id);
    if (c.state === 'open' && deps.clock.now() >= c.openedAt + settings.openMs) { move(id, c, 'half_open'); c.probing = false; }
    if (c.state === 'closed') return { admitted: true, probe: false };
    if (c.state === 'half_open' && !c.probing) { c.probing = true; return { admitted: true, probe: true }; }
    return { admitted: false, probe: false };
  }
  function release(id: string, probe: boolean) {
    if (probe) circuitOf(id).probing = false;
  }
  function record(id: string, ok: boolean, probe: boolean) {
    const c = circuitOf(id);
    if (probe) c.probing = false;
    if (ok) { c.failures = 0; move(id, c, 'closed'); return; }
    c.failures++;
    const reopen = c.state === 'half_open' && probe;
    if (reopen || (c.state === 'closed' && c.failures >= settings.failureThreshold)) {
      c.openedAt = deps.clock.now();
      move(id, c, 'open');
    }
  }
  return {
    forgetAllBut(existing) {
      const gone = [...circuits.keys()].filter((id) => !existing.has(id));
      for (const id of gone) circuits.delete(id);
      return gone;
    },
    states() { return [...circuits.keys()].map((id) => [id, this.view(id).state]); },
    view(id) {
      const c = circuits.get(id);
      if (!c) return { state: 'closed', consecutiveFailures: 0, retryAt: undefined };
      // An open circuit whose period is over is shown as the half-open one the next payment finds.
      const due = c.state === 'open' && deps.clock.now() >= c.openedAt + settings.openMs;
      return { state: due ? 'half_open' : c.state, consecutiveFailures: c.failures, retryAt: c.state === 'open' && !due ? c.openedAt + settings.openMs : undefined };
    },
    guard(id, connector, timeoutMs) {
      const complete = connector.complete?.bind(connector);
      return {
        ...connector,
        timeoutMs,
        async execute(req): Promise<Answer> {
          const gate = routed.has(req.operation) ? admit(id) : { admitted: true, probe: false };
          if (!gate.admitted) {
            return { kind: 'declined', reason: 'provider_error', acquirerCode: undefined, message: 'PSP account taken out of the cascade: its circuit is open', pspReference: undefined, details: { circuit: 'open' } };
          }
          try {
            const answer = await within(timeoutMs, connector.execute(req));
            // A request the connector could not put to the PSP was never sent: it says nothing of the
            // PSP's health, and a probe answered so is no probe (the next payment probes instead).
            if (answer.kind === 'declined' && answer.reason === 'not_supported') release(id, gate.probe);
            else record(id, !(answer.kind === 'declined' && answer.reason === 'provider_error'), gate.probe);
            return answer;
          } catch (err) {
            record(id, false, gate.probe);
            throw err;
          }
        },
        lookup: (attemptId, hint) => within(timeoutMs, connector.lookup(attemptId, hint)),
        // The shopper's return from the PSP's own 3-D Secure is bounded like any call (not counted: the shopper drives it).
        ...(complete ? { complete: (back: ShopperReturn) => within(timeoutMs, complete(back)) } : {}),
      };
    },
  };
}

/** A connector whose calls are abandoned (thrown: the engine records them unknown) once `timeoutMs` pass. */
export function withTimeout(connector: Connector, timeoutMs: number): Connector {
  return {
    ...connector,
    timeoutMs,
    execute: (req) => within(timeoutMs, connector.execute(req)),
    lookup: (attemptId) => within(timeoutMs, connector.lookup(attemptId)),
  };
}

/** The promise's result, or a rejection once `ms` have passed without one. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  try { return await Promise.race([work, timeout]); } finally { clearTimeout(timer); }
}
