import { randomBytes } from 'node:crypto';
import type { SimulatorConfig } from '../config.ts';
import { classifyResultCode, isKnownResultCode, successCodeByMode as successCode } from './result-codes.ts';
import type { Processor, PspRequest, PspResult } from './port.ts';


/**
 * Decides a request the way the platform's test system does: a forced result code wins, then the
 * documented test cards, then approval. Pure: the same request always gets the same answer.
 */
export function simulatedDecision(req: PspRequest): { code: string; details: Record<string, string> } {
  if (req.mode === 'LIVE') return { code: successCode.LIVE, details: {} };
  const forced = req.testParameters['forceResultCode'];
  if (forced !== undefined && isKnownResultCode(forced)) return { code: forced, details: { ExtendedDescription: 'forced by forceResultCode' } };
  return { code: successCode[req.mode], details: {} };
}

/** What the simulator remembers of a request: never the card. */
export interface ReceivedAttempt {
  readonly operation: PspRequest['operation'];
  readonly amount: PspRequest['amount'];
  readonly mode: PspRequest['mode'];
}

export interface SimulatedAcquirer extends Processor {
  /** Attempts seen, for tests that count PSP calls (a double charge shows as two). */
  readonly received: ReadonlyMap<string, ReceivedAttempt>;
}

/** How many attempts the simulator remembers; the oldest are forgotten first. */
const memory = 200_000;

function remember<V>(map: Map<string, V>, key: string, value: V) {
  map.set(key, value);
  if (map.size > memory) map.delete(map.keys().next().value!);
}

/**
 * The simulated acquirer behind the processor port. Latency, jitter, lost answers (timeouts) and
 * communication errors are configurable so benchmarks and fault tests can model a real PSP. A lost
 * answer is still processed: `lookup` then reports it, as a real PSP's status API would.
 */
export function createSimulatedAcquirer(config: SimulatorConfig, random: () => number = Math.random): SimulatedAcquirer {
  const results = new Map<string, PspResult>();
  const received = new Map<string, ReceivedAttempt>();
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  return {
    name: 'simulator',
    received,
    async execute(req) {
      // A retried attempt id gets the stored answer: the PSP is idempotent on it, never charging twice.
      const known = results.get(req.attemptId);
      if (known) return known;
      remember(received, req.attemptId, { operation: req.operation, amount: req.amount, mode: req.mode });
      const delay = config.latencyMs + (config.jitterMs ? (random() * 2 - 1) * config.jitterMs : 0);
      if (delay > 0) await sleep(delay);
      const roll = random();
      if (roll < config.errorRate) {
        const failed: PspResult = { outcome: 'declined', code: '900.100.100', pspReference: '', details: { AcquirerResponse: 'EXCEPTION' } };
        return failed;
      }
      const { code, details } = simulatedDecision(req);
      const cls = classifyResultCode(code);
      const result: PspResult = {
        outcome: cls === 'success' || cls === 'review' ? 'approved' : cls === 'pending' ? 'pending' : 'declined',
        code,
        pspReference: randomBytes(8).toString('hex').toUpperCase(),
        details: { ConnectorTxID1: req.attemptId, AcquirerResponse: cls === 'rejected' ? 'DECLINED' : 'APPROVED', ...details },
      };
      remember(results, req.attemptId, result);
      if (roll < config.errorRate + config.timeoutRate) return new Promise<PspResult>(() => {});
      return result;
    },
    async lookup(attemptId) {
      return results.get(attemptId);
    },
  };
}
