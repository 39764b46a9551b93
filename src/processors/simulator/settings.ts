import type { Money } from '../../money/money.ts';
import { classifyResultCode } from '../result-codes.ts';
import { parseFees, type FeeSchedule } from './settlement.ts';

export { declineReasonOf } from '../result-codes.ts';

/** The kinds of decline a simulated account can be told to make, and the code it answers for each. */
export const simulatedDeclines = ['soft', 'hard', 'error'] as const;
export type SimulatedDecline = (typeof simulatedDeclines)[number];
export const isSimulatedDecline = (s: unknown): s is SimulatedDecline => (simulatedDeclines as readonly unknown[]).includes(s);

export const declineCodeOf: Readonly<Record<SimulatedDecline, string>> = {
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
  readonly category: SimulatedDecline;
  /** A specific result code; defaults to the category's code. */
  readonly code?: string;
}

/**
 * Settings of one simulated PSP account. Holds no card numbers: matching is by BIN or last four.
 * The gateway's default acquirer is a simulated account too, with the rates from its configuration.
 */
export interface SimulatorSettings {
  readonly latencyMs: number;
  /** Random ± spread around the latency, in ms. */
  readonly jitterMs: number;
  /** Share (0..1) of calls that answer with a communication error. */
  readonly errorRate: number;
  /** Share (0..1) of calls that are processed but never answered. */
  readonly timeoutRate: number;
  readonly declines: readonly DeclineRule[];
  /** Requests matching one of these are processed but never answered (the caller's timeout decides `unknown`). */
  readonly timeouts: readonly Match[];
  /** What its daily settlement report charges; absent: the simulator's default fees. */
  readonly fees?: FeeSchedule;
}

/** What an operator sets per simulated account (the rates belong to the default acquirer's configuration). */
export type AccountSettings = Pick<SimulatorSettings, 'latencyMs' | 'declines' | 'timeouts' | 'fees'>;

export const defaultSettings: SimulatorSettings = { latencyMs: 0, jitterMs: 0, errorRate: 0, timeoutRate: 0, declines: [], timeouts: [] };

export function matches(m: Match, pan: string | undefined, amount: Money): boolean {
  const checks: boolean[] = [];
  if (m.cardSuffixes) checks.push(pan !== undefined && m.cardSuffixes.includes(pan.slice(-4)));
  if (m.bins) checks.push(pan !== undefined && m.bins.includes(pan.slice(0, 6)));
  if (m.amountAtLeast !== undefined) checks.push(amount.amount >= m.amountAtLeast);
  if (m.amounts) checks.push(m.amounts.includes(amount.amount));
  return checks.length > 0 && checks.every(Boolean);
}

/** Reads settings from untrusted JSON (admin API, CLI); returns the reason they are refused otherwise. */
export function parseSettings(input: unknown, strict = true): { ok: true; value: AccountSettings } | { ok: false; error: string } {
  if (input === undefined) return { ok: true, value: { latencyMs: 0, declines: [], timeouts: [] } };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, error: 'behaviour must be an object' };
  const o = input as Record<string, unknown>;
  // A misspelt key (`decline`, `cardSuffix`) would leave the account behaving otherwise than the
  // operator asked, after an answer that said it was saved.
  const unknownOf = (x: Record<string, unknown>, allowed: readonly string[], where: string) => {
    const unknown = strict ? Object.keys(x).filter((k) => !allowed.includes(k)) : [];
    return unknown.length > 0 ? `unknown setting(s) ${unknown.slice(0, 5).map((k) => `${where}${k}`).join(', ')} (allowed: ${allowed.join(', ')})` : undefined;
  };
  const unknownTop = unknownOf(o, ['latencyMs', 'declines', 'timeouts', 'fees'], '');
  if (unknownTop) return { ok: false, error: unknownTop };
  const latencyMs = o.latencyMs ?? 0;
  if (typeof latencyMs !== 'number' || !Number.isInteger(latencyMs) || latencyMs < 0 || latencyMs > 120_000) {
    return { ok: false, error: 'latencyMs must be an integer between 0 and 120000' };
  }
  const readMatch = (x: unknown, where: string, extra: readonly string[] = []): Match | string => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return `${where} must be an object`;
    const r = x as Record<string, unknown>;
    const unknownRule = unknownOf(r, ['cardSuffixes', 'bins', 'amountAtLeast', 'amounts', ...extra], `${where}.`);
    if (unknownRule) return unknownRule;
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
    const m = readMatch(d, `declines[${i}]`, ['category', 'code']);
    if (typeof m === 'string') return { ok: false, error: m };
    const r = d as Record<string, unknown>;
    if (!isSimulatedDecline(r.category)) return { ok: false, error: `declines[${i}].category must be one of ${simulatedDeclines.join(', ')}` };
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
  if (o.fees === undefined) return { ok: true, value: { latencyMs, declines, timeouts } };
  const fees = parseFees(o.fees);
  if (!fees.ok) return fees;
  return { ok: true, value: { latencyMs, declines, timeouts, fees: fees.value } };
}

