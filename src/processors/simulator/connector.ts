import { referenceHex } from '../../runtime/ids.ts';
import type { Outcome } from '../outcome.ts';
import type { Connector, ConnectorFactory, ConnectorOperation, ConnectorRequest } from '../connector.ts';
import { classifyResultCode, isKnownResultCode, successCodeByMode } from '../result-codes.ts';
import { testCardOf } from './test-cards.ts';
import { declineCodeOf, declineReasonOf, defaultSettings, matches, parseSettings, type SimulatorSettings } from './settings.ts';
import type { LostAnswers } from './kysely-store.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;

/**
 * What the simulated acquirer decides for a request, the way an OPP-family test system does: live
 * requests are approved; otherwise a forced result code wins, then the test cards' answers and
 * the account's decline rules (on authorizations and sales), then approval. Pure.
 */
export function simulatedDecision(settings: SimulatorSettings, req: ConnectorRequest): { code: string; silent: boolean; details: Record<string, string> } {
  if (req.live) return { code: successCodeByMode.LIVE, silent: false, details: {} };
  const pan = req.card?.pan.reveal();
  const initial = req.operation === 'authorize' || req.operation === 'sale';
  const card = initial ? testCardOf(pan) : undefined;
  const silent = initial && (card?.behaviour.kind === 'no_answer' || settings.timeouts.some((m) => matches(m, pan, req.amount)));
  const forced = req.testParameters['forceResultCode'];
  if (forced !== undefined && isKnownResultCode(forced)) return { code: forced, silent, details: { ExtendedDescription: 'forced by forceResultCode' } };
  // The test cards (test-cards.ts) answer as the PSP itself would, before any account's own rules.
  if (card?.behaviour.kind === 'decline') return { code: card.behaviour.code, silent, details: { ExtendedDescription: `test card: ${card.reason}` } };
  const rule = initial ? settings.declines.find((r) => matches(r, pan, req.amount)) : undefined;
  if (rule) return { code: rule.code ?? declineCodeOf[rule.category], silent, details: {} };
  return { code: successCodeByMode.INTERNAL, silent, details: {} };
}

/** The neutral outcome of an OPP-family result code. */
export function outcomeOfCode(code: string, pspReference: string | undefined, details: Record<string, string>): Answer {
  switch (classifyResultCode(code)) {
    case 'success': case 'review': return { kind: 'approved', pspReference, acquirerCode: code, details };
    case 'pending': return { kind: 'pending', action: undefined, pspReference, acquirerCode: code, details };
    case 'rejected': return { kind: 'declined', reason: declineReasonOf(code), acquirerCode: code, message: undefined, pspReference, details };
  }
}

/** What the simulator remembers of a request: never the card. */
export interface ReceivedAttempt {
  readonly operation: ConnectorOperation;
  readonly amount: ConnectorRequest['amount'];
  readonly live: boolean;
  /** The PSP account it was sent to; undefined for the gateway's default acquirer. */
  readonly accountId: string | undefined;
  /** Whether the request carried a 3-D Secure result. */
  readonly authenticated: boolean;
}

export interface SimulatedAcquirer extends Connector {
  /** Attempts seen by every simulated account, for tests that count PSP calls (a double charge shows as two). */
  readonly received: ReadonlyMap<string, ReceivedAttempt>;
  /** The same simulated PSP behind another account with its own settings (the memory is shared, as one PSP's database). */
  forAccount(accountId: string, settings: SimulatorSettings): Connector;
}

/**
 * How many answers the simulator remembers for retries and the reconciler's lookups (the oldest
 * are forgotten first), and how many received attempts it keeps for tests that count PSP calls. It
 * runs inside every gateway process as the test-mode acquirer: at about 600 bytes an attempt, the
 * 200,000 it once kept held some 115 MB for good under sandbox traffic.
 */
const answersKept = 50_000;
const receivedKept = 10_000;

function remember<V>(map: Map<string, V>, key: string, value: V, kept: number) {
  map.set(key, value);
  if (map.size > kept) map.delete(map.keys().next().value!);
}

const operations: readonly ConnectorOperation[] = ['authorize', 'sale', 'capture', 'void', 'refund', 'rebill', 'credit'];

/**
 * The simulated acquirer: latency, jitter, lost answers and communication errors are configurable
 * so benchmarks and fault tests can model a real PSP. A lost answer is still processed: `lookup`
 * then reports it, as a real PSP's status API would, from `lost` (the database) on any node and after
 * a restart, as from memory on the node that made it. Idempotent on the attempt id.
 */
export function createSimulatedAcquirer(config: Partial<SimulatorSettings> = {}, random: () => number = Math.random, lost?: LostAnswers): SimulatedAcquirer {
  const results = new Map<string, Answer>();
  const received = new Map<string, ReceivedAttempt>();
  // Received and still being worked on: a status API answers "processing" for these, not "not found"
  // (which the reconciler rightly takes for "never received", and a cascade moves on from).
  const processing = new Set<string>();
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  function connector(accountId: string | undefined, settings: SimulatorSettings): Connector {
    return {
      name: 'simulator',
      operations,
      simulated: true,
      async execute(req) {
        // A retried attempt id gets the stored answer: the PSP is idempotent on it, never charging twice.
        const known = results.get(req.attemptId);
        if (known) return known;
        remember(received, req.attemptId, { operation: req.operation, amount: req.amount, live: req.live, accountId, authenticated: req.authentication !== undefined }, receivedKept);
        const delay = settings.latencyMs + (settings.jitterMs ? (random() * 2 - 1) * settings.jitterMs : 0);
        processing.add(req.attemptId);
        try {
          if (delay > 0) await sleep(delay);
        } finally {
          processing.delete(req.attemptId);
        }
        const roll = random();
        if (roll < settings.errorRate) {
          return { kind: 'declined', reason: 'provider_error', acquirerCode: '900.100.100', message: undefined, pspReference: undefined, details: { AcquirerResponse: 'EXCEPTION' } };
        }
        const decision = simulatedDecision(settings, req);
        const rejected = classifyResultCode(decision.code) === 'rejected';
        const answer = outcomeOfCode(decision.code, referenceHex(8).toUpperCase(),
          { ConnectorTxID1: req.attemptId, AcquirerResponse: rejected ? 'DECLINED' : 'APPROVED', ...decision.details });
        remember(results, req.attemptId, answer, answersKept);
        // Processed, but the answer is lost on the way back: the caller's timeout makes it `unknown`.
        // Kept first where the reconciler of any node will ask (the PSP's own database).
        if (decision.silent || roll < settings.errorRate + settings.timeoutRate) {
          await lost?.keep(req.attemptId, answer);
          return new Promise<Answer>(() => {});
        }
        return answer;
      },
      async lookup(attemptId) {
        const answer = results.get(attemptId) ?? await lost?.answer(attemptId);
        if (answer) return answer;
        return processing.has(attemptId)
          ? { kind: 'pending', action: undefined, pspReference: undefined, acquirerCode: 'processing', details: {} }
          : undefined;
      },
    };
  }

  const fallback = connector(undefined, { ...defaultSettings, ...config });
  return { ...fallback, received, forAccount: (id, settings) => connector(id, settings) };
}

/** The registry's entry: a simulated account's connector from its settings, over one shared simulated PSP. */
export function simulatorFactory(acquirer: SimulatedAcquirer): ConnectorFactory {
  return {
    name: 'simulator',
    simulated: true,
    parseSettings,
    // A simulated account holds no secret.
    create(account) {
      // Leniently: settings stored by an earlier release may hold keys this one no longer reads.
      const parsed = parseSettings(account.settings, false);
      return acquirer.forAccount(account.id, { ...defaultSettings, ...(parsed.ok ? parsed.value : {}) });
    },
  };
}
