import { randomBytes } from 'node:crypto';
import type { Money } from '../money/money.ts';
import { classifyResultCode, successCodeByMode } from './result-codes.ts';
import type { Processor, PspRequest, PspResult } from './port.ts';

/**
 * How an acquirer's decline is treated by a cascade: `soft` (the issuer or acquirer refused this
 * time; another acquirer may approve), `hard` (the card itself is bad: stolen, invalid, expired;
 * no acquirer should try again), `error` (the provider failed to process it at all).
 */
export const declineCategories = ['soft', 'hard', 'error'] as const;
export type DeclineCategory = (typeof declineCategories)[number];
export const isDeclineCategory = (s: unknown): s is DeclineCategory => (declineCategories as readonly unknown[]).includes(s);

const hardCodes = new Set([
  '800.100.151', '800.100.153', '800.100.157', '800.100.159', '800.100.171', '100.100.101', '100.100.303',
  '100.400.121', '800.300.101', '100.380.401', '800.400.200',
]);

/** The cascade category of a declined result code. Pure. */
export function declineCategoryOf(code: string): DeclineCategory {
  if (code.startsWith('900.') || code === '999.999.999') return 'error';
  return hardCodes.has(code) ? 'hard' : 'soft';
}

/** The code a simulated account answers for each kind of decline it is configured to make. */
export const declineCodeOf: Readonly<Record<DeclineCategory, string>> = {
  soft: '800.100.152', hard: '800.100.159', error: '900.100.100',
};

/** Which requests a rule applies to: any card whose number ends in / starts with one of these, any amount in range. */
export interface Match {
  /** Last four digits of the card number. */
  readonly cardSuffixes?: readonly string[];
  /** Leading six digits of the card number. */
  readonly bins?: readonly string[];
  /** Minor units; the rule applies to amounts ≥ this. */
  readonly amountAtLeast?: number;
  /** Minor units; the rule applies to exactly these amounts. */
  readonly amounts?: readonly number[];
}

export interface DeclineRule extends Match {
  readonly category: DeclineCategory;
  /** A specific result code; defaults to the category's code. */
  readonly code?: string;
}

/** Behaviour of one simulated PSP account. Holds no card numbers: matching is by BIN or last four. */
export interface AccountBehaviour {
  readonly latencyMs: number;
  readonly declines: readonly DeclineRule[];
  /** Requests matching one of these are processed but never answered (the caller's timeout decides `unknown`). */
  readonly timeouts: readonly Match[];
}

export const defaultBehaviour: AccountBehaviour = { latencyMs: 0, declines: [], timeouts: [] };

function matches(m: Match, pan: string | undefined, amount: Money): boolean {
  const checks: boolean[] = [];
  if (m.cardSuffixes) checks.push(pan !== undefined && m.cardSuffixes.includes(pan.slice(-4)));
  if (m.bins) checks.push(pan !== undefined && m.bins.includes(pan.slice(0, 6)));
  if (m.amountAtLeast !== undefined) checks.push(amount.amount >= m.amountAtLeast);
  if (m.amounts) checks.push(m.amounts.includes(amount.amount));
  return checks.length > 0 && checks.every(Boolean);
}

/** What a simulated account does with a request. Pure: the same request always gets the same answer. */
export function accountDecision(b: AccountBehaviour, req: PspRequest): { kind: 'answer'; code: string } | { kind: 'silence'; code: string } {
  const pan = req.card?.pan.reveal();
  const approved = successCodeByMode[req.mode];
  // Declines apply to the authorization (and debit); follow-ups on an approved payment go through.
  const initial = req.operation === 'authorize' || req.operation === 'debit';
  if (initial && b.timeouts.some((m) => matches(m, pan, req.amount))) return { kind: 'silence', code: approved };
  const rule = initial ? b.declines.find((r) => matches(r, pan, req.amount)) : undefined;
  return { kind: 'answer', code: rule ? rule.code ?? declineCodeOf[rule.category] : approved };
}

/** Reads a behaviour from untrusted JSON (admin API, CLI); returns the reason it is refused otherwise. */
export function parseBehaviour(input: unknown): { ok: true; value: AccountBehaviour } | { ok: false; error: string } {
  if (input === undefined) return { ok: true, value: defaultBehaviour };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, error: 'behaviour must be an object' };
  const o = input as Record<string, unknown>;
  const latencyMs = o.latencyMs ?? 0;
  if (typeof latencyMs !== 'number' || !Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > 120_000) {
    return { ok: false, error: 'latencyMs must be an integer between 0 and 120000' };
  }
  const readMatch = (x: unknown, where: string): Match | string => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return `${where} must be an object`;
    const r = x as Record<string, unknown>;
    const strings = (v: unknown, len: number) => v === undefined || (Array.isArray(v) && v.length <= 100 && v.every((s) => typeof s === 'string' && new RegExp(`^[0-9]{${len}}$`).test(s)));
    if (!strings(r.cardSuffixes, 4)) return `${where}.cardSuffixes must be a list of 4-digit strings`;
    if (!strings(r.bins, 6)) return `${where}.bins must be a list of 6-digit strings`;
    const int = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (r.amountAtLeast !== undefined && !int(r.amountAtLeast)) return `${where}.amountAtLeast must be a non-negative integer (minor units)`;
    if (r.amounts !== undefined && !(Array.isArray(r.amounts) && r.amounts.length <= 100 && r.amounts.every(int))) return `${where}.amounts must be a list of non-negative integers (minor units)`;
    const m: Match = {
      ...(r.cardSuffixes ? { cardSuffixes: [...(r.cardSuffixes as string[])] } : {}),
      ...(r.bins ? { bins: [...(r.bins as string[])] } : {}),
      ...(r.amountAtLeast !== undefined ? { amountAtLeast: r.amountAtLeast as number } : {}),
      ...(r.amounts ? { amounts: [...(r.amounts as number[])] } : {}),
    };
    if (Object.keys(m).length === 0) return `${where} must name cardSuffixes, bins, amountAtLeast or amounts`;
    return m;
  };
  const list = (v: unknown, name: string): unknown[] | string => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > 50) return `${name} must be a list of at most 50 rules`;
    return v;
  };
  const rawDeclines = list(o.declines, 'declines');
  if (typeof rawDeclines === 'string') return { ok: false, error: rawDeclines };
  const declines: DeclineRule[] = [];
  for (const [i, d] of rawDeclines.entries()) {
    const m = readMatch(d, `declines[${i}]`);
    if (typeof m === 'string') return { ok: false, error: m };
    const r = d as Record<string, unknown>;
    if (!isDeclineCategory(r.category)) return { ok: false, error: `declines[${i}].category must be one of ${declineCategories.join(', ')}` };
    if (r.code !== undefined && (typeof r.code !== 'string' || classifyResultCode(r.code) !== 'rejected')) {
      return { ok: false, error: `declines[${i}].code must be a rejecting result code` };
    }
    declines.push({ ...m, category: r.category, ...(r.code !== undefined ? { code: r.code as string } : {}) });
  }
  const rawTimeouts = list(o.timeouts, 'timeouts');
  if (typeof rawTimeouts === 'string') return { ok: false, error: rawTimeouts };
  const timeouts: Match[] = [];
  for (const [i, t] of rawTimeouts.entries()) {
    const m = readMatch(t, `timeouts[${i}]`);
    if (typeof m === 'string') return { ok: false, error: m };
    timeouts.push(m);
  }
  return { ok: true, value: { latencyMs, declines, timeouts } };
}

/** What a routed account remembers of a request (for tests that count calls): never the card. */
export interface AccountCall {
  readonly accountId: string;
  readonly operation: PspRequest['operation'];
  readonly amount: Money;
  /** Whether the request carried a 3-D Secure authentication result. */
  readonly authenticated: boolean;
}

export interface AccountRouter extends Processor {
  readonly calls: ReadonlyMap<string, AccountCall>;
}

/**
 * One processor in front of every configured PSP account: a request naming an account is
 * simulated with that account's behaviour (read per request, so changes apply at once); a request
 * without one goes to `fallback`, the gateway's default acquirer. Answers are remembered per
 * attempt id, so a retried attempt is never processed twice and `lookup` can settle lost answers.
 */
export function createAccountRouter(deps: {
  fallback: Processor;
  behaviourOf: (accountId: string) => Promise<AccountBehaviour | undefined>;
}): AccountRouter {
  const results = new Map<string, PspResult>();
  const calls = new Map<string, AccountCall>();
  const memory = 200_000;
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.set(key, value);
    if (map.size > memory) map.delete(map.keys().next().value!);
  };
  return {
    name: 'accounts',
    calls,
    async execute(req) {
      if (req.account === undefined) return deps.fallback.execute(req);
      const known = results.get(req.attemptId);
      if (known) return known;
      remember(calls, req.attemptId, { accountId: req.account, operation: req.operation, amount: req.amount, authenticated: req.authentication !== undefined });
      const behaviour = await deps.behaviourOf(req.account);
      if (!behaviour) return { outcome: 'declined', code: '600.200.500', pspReference: '', details: { AcquirerResponse: 'NOT CONFIGURED' } };
      if (behaviour.latencyMs > 0) await new Promise((r) => setTimeout(r, behaviour.latencyMs));
      const decision = accountDecision(behaviour, req);
      const cls = classifyResultCode(decision.code);
      const result: PspResult = {
        outcome: cls === 'success' || cls === 'review' ? 'approved' : cls === 'pending' ? 'pending' : 'declined',
        code: decision.code,
        pspReference: randomBytes(8).toString('hex').toUpperCase(),
        details: { ConnectorTxID1: req.attemptId, AcquirerResponse: cls === 'rejected' ? 'DECLINED' : 'APPROVED' },
      };
      remember(results, req.attemptId, result);
      // Processed but the answer is lost on the way back: the caller's timeout makes it `unknown`.
      if (decision.kind === 'silence') return new Promise<PspResult>(() => {});
      return result;
    },
    async lookup(attemptId) {
      return results.get(attemptId) ?? deps.fallback.lookup(attemptId);
    },
  };
}
