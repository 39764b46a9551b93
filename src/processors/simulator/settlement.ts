import type { Currency } from '../../money/money.ts';
import type { Payout, SettlementLine, SettlementLineType, SettlementReport } from '../settlement-report.ts';

/**
 * What a simulated acquirer charges, per PSP account (`fees` in its settings). Fixed fees are minor
 * units of the line's currency; `captureBps` is a share of the captured amount in basis points.
 */
export interface FeeSchedule {
  readonly captureBps: number;
  readonly captureFixed: number;
  readonly refundFixed: number;
  readonly chargebackFixed: number;
}

export const defaultFees: FeeSchedule = { captureBps: 150, captureFixed: 20, refundFixed: 0, chargebackFixed: 1500 };

/** Reads `fees` from untrusted settings; absent fields take the default. */
export function parseFees(input: unknown): { ok: true; value: FeeSchedule } | { ok: false; error: string } {
  if (input === undefined) return { ok: true, value: defaultFees };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, error: 'fees must be an object' };
  const o = input as Record<string, unknown>;
  const out: Record<string, number> = { ...defaultFees };
  for (const k of Object.keys(defaultFees) as (keyof FeeSchedule)[]) {
    const v = o[k];
    if (v === undefined) continue;
    const max = k === 'captureBps' ? 10_000 : 1_000_000;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) return { ok: false, error: `fees.${k} must be an integer between 0 and ${max}` };
    out[k] = v;
  }
  return { ok: true, value: out as unknown as FeeSchedule };
}

/** A money movement the acquirer processed: `amount` is positive; the line's type gives the direction. */
export interface ProcessedMovement {
  readonly reference: string;
  readonly pspReference: string | undefined;
  readonly type: SettlementLineType;
  readonly amount: number;
  readonly currency: Currency;
}

/** Disagreements a test can ask the simulated acquirer to put in its report, each on its own line. */
export const settlementInjections = ['missing_line', 'amount_mismatch', 'unknown_reference', 'late_chargeback'] as const;
export type SettlementInjection = (typeof settlementInjections)[number];
export const isSettlementInjection = (v: unknown): v is SettlementInjection => settlementInjections.includes(v as SettlementInjection);

const towardsMerchant: Record<SettlementLineType, 1 | -1> = { capture: 1, chargeback_reversal: 1, refund: -1, credit: -1, chargeback: -1 };

export function feeOf(fees: FeeSchedule, type: SettlementLineType, amount: number): number {
  switch (type) {
    case 'capture': return Math.round((amount * fees.captureBps) / 10_000) + fees.captureFixed;
    case 'refund': case 'credit': return fees.refundFixed;
    case 'chargeback': return fees.chargebackFixed;
    case 'chargeback_reversal': return 0;
  }
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

function lineOf(m: ProcessedMovement, fees: FeeSchedule, valueDate: string): SettlementLine {
  const gross = towardsMerchant[m.type] * m.amount;
  const fee = feeOf(fees, m.type, m.amount);
  return { reference: m.reference, pspReference: m.pspReference, type: m.type, gross, fee, net: gross - fee, currency: m.currency, valueDate };
}

/**
 * The daily settlement report a simulated acquirer sends: one line per movement it processed that
 * day, settled the next day (T+1), with its fees, and one payout per currency equal to the sum of
 * the nets. `inject` puts each named disagreement on a different capture line (picked with
 * `random`); `injected` says which reference carries which, for tests to check against. Pure.
 */
export function simulatedSettlementReport(input: {
  pspAccount: string;
  merchantId: string | undefined;
  day: string;
  movements: readonly ProcessedMovement[];
  fees: FeeSchedule;
  inject?: readonly SettlementInjection[];
  random?: () => number;
}): { report: SettlementReport; injected: { kind: SettlementInjection; reference: string }[] } {
  const valueDate = nextDay(input.day);
  const lines = input.movements.map((m) => lineOf(m, input.fees, valueDate));
  const random = input.random ?? Math.random;
  const injected: { kind: SettlementInjection; reference: string }[] = [];
  const taken = new Set<number>();
  // A capture already charged back that day: a late chargeback injected on it would repeat that
  // chargeback's line, which reads as a duplicate line, not as a late chargeback.
  const chargedBack = new Set(lines.filter((l) => l.type === 'chargeback').map((l) => l.reference));
  const pickCapture = (kind: SettlementInjection): number | undefined => {
    const free = lines.flatMap((l, i) => (l.type === 'capture' && !taken.has(i) && !(kind === 'late_chargeback' && chargedBack.has(l.reference)) ? [i] : []));
    if (free.length === 0) return undefined;
    const i = free[Math.floor(random() * free.length)]!;
    taken.add(i);
    return i;
  };
  const dropped = new Set<number>();
  for (const kind of new Set(input.inject ?? [])) {
    if (kind === 'unknown_reference') {
      const currency = lines[0]?.currency ?? ('EUR' as Currency);
      const reference = `unknown-${Math.floor(random() * 1e12).toString(16)}`;
      lines.push(lineOf({ reference, pspReference: undefined, type: 'capture', amount: 1234, currency }, input.fees, valueDate));
      // Not one of the day's captures: no other injection may pick it (a chargeback of it would be a
      // second unknown reference, not a late chargeback).
      taken.add(lines.length - 1);
      injected.push({ kind, reference });
      continue;
    }
    const i = pickCapture(kind);
    if (i === undefined) continue;
    const l = lines[i]!;
    injected.push({ kind, reference: l.reference });
    if (kind === 'missing_line') dropped.add(i);
    else if (kind === 'amount_mismatch') lines[i] = lineOf({ ...l, type: 'capture', amount: l.gross + 100 }, input.fees, valueDate);
    else lines.push(lineOf({ ...l, type: 'chargeback', amount: l.gross }, input.fees, valueDate));
  }
  const kept = lines.filter((_, i) => !dropped.has(i));
  const sums = new Map<Currency, number>();
  for (const l of kept) sums.set(l.currency, (sums.get(l.currency) ?? 0) + l.net);
  const payouts: Payout[] = [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount, valueDate }));
  return { report: { pspAccount: input.pspAccount, merchantId: input.merchantId, day: input.day, lines: kept, payouts }, injected };
}
