import type { Currency } from '../money/money.ts';
import type { SettlementLine, SettlementLineType, SettlementReport } from '../processors/settlement-report.ts';
import { clawbackLeg, type AccountKind, type Posting } from './model.ts';

/**
 * Settlement reconciliation, pure: a PSP's report against what the ledger says moved through that
 * PSP account. A line that agrees with the ledger is *matched*: its fee is posted and its net moves
 * from `receivable` to `settled`. Everything else is a *discrepancy* of one kind, kept open until an
 * operator resolves it:
 *
 * - `missing_line`: the ledger moved money that day that the report does not settle (also the undo of
 *   a movement settled before its PSP reported it failed: the PSP's clawback of what it paid out);
 * - `amount_mismatch`: the line's gross (or currency) differs from the ledger's, or its net is not gross less fee;
 * - `unknown_reference`: no movement of that type with that reference at that PSP account;
 * - `late_chargeback`: the acquirer charged back a transaction the gateway has no chargeback for;
 * - `late_approval`: a charge the PSP approved after the gateway had ended it as failed, or the
 *   reversal the gateway sent for it (late-approvals.ts): known, outside the books, never matched;
 * - `duplicate_line`: the movement was settled already (by an earlier report, or earlier in this one);
 * - `payout_mismatch`: a currency's payout is not the sum of its lines' nets.
 */
export const discrepancyKinds = ['missing_line', 'amount_mismatch', 'unknown_reference', 'late_chargeback', 'late_approval', 'duplicate_line', 'payout_mismatch'] as const;
export type DiscrepancyKind = (typeof discrepancyKinds)[number];
export const isDiscrepancyKind = (v: unknown): v is DiscrepancyKind => discrepancyKinds.includes(v as DiscrepancyKind);

/** Lines a PSP may report by the capture they concern, knowing no id of the gateway's own record. */
const disputeLineTypes: ReadonlySet<string> = new Set(['chargeback', 'chargeback_reversal']);

/** One receivable movement of the ledger, as a settlement line would show it. */
export interface LedgerMovement {
  readonly operationId: string;
  readonly paymentId: string;
  readonly merchantId: string;
  readonly pspAccountId: string;
  readonly type: SettlementLineType;
  /** Signed like a settlement line: positive towards the merchant. */
  readonly gross: number;
  readonly currency: string;
  /**
   * The undo of an operation its PSP reported failed after a report had settled it (paid it out):
   * the PSP's clawback, a line of the same type and reference with the opposite sign.
   */
  readonly undo: boolean;
  /** Whether a settlement already posted it. */
  readonly settled: boolean;
}

/** Which movements of these operations a settlement posted, by `settledKey`. */
export const settledKey = (operationId: string, undo: boolean) => (undo ? `${operationId}\u0000undo` : operationId);
/** The movement a settled leg settles: legs from `clawbackLeg` settle an undo. */
export const settledKeyOf = (p: Pick<Posting, 'operationId' | 'leg'>) => settledKey(p.operationId, p.leg >= clawbackLeg);

/** The receivable movement a posted leg records, if it is one. */
export function movementOf(p: Pick<Posting, 'debit' | 'credit' | 'amount' | 'phase'>): { type: SettlementLineType; gross: number } | undefined {
  if (p.phase !== 'posted') return undefined;
  const pair = `${p.debit}/${p.credit}` as `${AccountKind}/${AccountKind}`;
  switch (pair) {
    case 'receivable/payable': return { type: 'capture', gross: p.amount };
    case 'refunds/receivable': return { type: 'refund', gross: -p.amount };
    case 'credits/receivable': return { type: 'credit', gross: -p.amount };
    case 'chargebacks/receivable': return { type: 'chargeback', gross: -p.amount };
    case 'receivable/chargebacks': return { type: 'chargeback_reversal', gross: p.amount };
    // A capture or refund undone (its PSP reported it failed after confirming it) takes its movement back.
    case 'payable/receivable': return { type: 'capture', gross: -p.amount };
    case 'receivable/refunds': return { type: 'refund', gross: p.amount };
    default: return undefined;
  }
}

export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  readonly reference: string;
  readonly operationId: string | undefined;
  readonly paymentId: string | undefined;
  readonly merchantId: string | undefined;
  readonly currency: string;
  /** What the ledger says (signed minor units), when it says something. */
  readonly expected: number | undefined;
  /** The currency of `expected` where it is not `currency` (the report line's): a line naming a movement in another. */
  readonly expectedCurrency?: string;
  /** What the report says. */
  readonly reported: number | undefined;
  /** The line's fee and net where its net is not its gross (`reported`) less its fee: the two grosses may agree. */
  readonly reportedFee?: number;
  readonly reportedNet?: number;
}

export interface Match { readonly line: SettlementLine; readonly movement: LedgerMovement }

/** A reference a late approval left at the PSP (its charge's operation, or its reversal's key). */
export interface LateApprovalReference { readonly paymentId: string; readonly merchantId: string; readonly operationId: string }

export interface ReconciliationResult {
  readonly matched: readonly Match[];
  readonly discrepancies: readonly Discrepancy[];
}

const key = (reference: string, type: SettlementLineType) => `${reference}\u0000${type}`;
const movementKey = (m: Pick<LedgerMovement, 'operationId' | 'type' | 'undo'>) => `${key(m.operationId, m.type)}\u0000${m.undo}`;

/**
 * The movement a line means among those of its reference and type (two when an operation settled
 * and then undone: its movement and the undo): the one its sign points to, unsettled if one is.
 */
function movementFor(line: SettlementLine, named: readonly LedgerMovement[] | undefined, taken: ReadonlySet<string>): LedgerMovement | undefined {
  if (!named || named.length === 0) return undefined;
  // An undo is owed back only for money paid out: its movement settled before, or by this report.
  const candidates = named.filter((m) => !m.undo || named.some((o) => !o.undo && o.operationId === m.operationId && (o.settled || taken.has(movementKey(o)))));
  if (candidates.length === 0) return undefined;
  const signed = candidates.filter((m) => Math.sign(m.gross) === Math.sign(line.gross));
  const pool = signed.length > 0 ? signed : candidates;
  // A line may name several movements (two captures sharing their PSP's reference, as Stripe's
  // partial captures share the PaymentIntent's): the one of its amount not matched yet comes first.
  const open = pool.filter((m) => !m.settled && !taken.has(movementKey(m)));
  return open.find((m) => m.currency === line.currency && m.gross === line.gross) ?? open[0] ?? pool.find((m) => !m.settled) ?? pool[0];
}

/**
 * Matches a report to the ledger. `known` holds the ledger's movements for the references the
 * report names; `due` those the ledger made at that PSP account during the report's day (what the
 * report should settle). Both are of the report's PSP account only.
 */
export function reconcile(input: {
  report: SettlementReport;
  merchantId: string | undefined;
  known: readonly LedgerMovement[];
  due: readonly LedgerMovement[];
  /** Late approvals at this PSP account by the references the report names. */
  late?: ReadonlyMap<string, LateApprovalReference>;
  /**
   * The operations a PSP's references name (an attempt id it was sent as the merchant reference, its
   * own reference): a line is matched by its reference, or by what that and its `pspReference` name.
   */
  knownAs?: ReadonlyMap<string, readonly string[]>;
  /**
   * The chargebacks and chargeback reversals of payments whose captures the report's dispute lines
   * name (a PSP knows no id of the gateway's own dispute records, so it names the capture).
   */
  chargebacks?: readonly LedgerMovement[];
}): ReconciliationResult {
  const byKey = new Map<string, LedgerMovement[]>();
  for (const m of input.known) byKey.set(key(m.operationId, m.type), [...(byKey.get(key(m.operationId, m.type)) ?? []), m]);
  const captures = new Map(input.known.filter((m) => m.type === 'capture' && !m.undo).map((m) => [m.operationId, m]));
  /** Movements a line of this report matched: another line for one is a duplicate. */
  const taken = new Set<string>();
  /** Movements some line of this report was taken to mean (matched or not): none of them is missing. */
  const named = new Set<string>();
  const matched: Match[] = [];
  const discrepancies: Discrepancy[] = [];
  const add = (kind: DiscrepancyKind, line: SettlementLine, m: Pick<LedgerMovement, 'operationId' | 'paymentId' | 'merchantId' | 'gross' | 'currency'> | undefined, ledger: { expected: number | undefined } = { expected: m?.gross }) => discrepancies.push({
    kind, reference: line.reference, operationId: m?.operationId, paymentId: m?.paymentId, merchantId: m?.merchantId ?? input.merchantId,
    currency: line.currency, expected: ledger.expected, ...(m && m.currency !== line.currency ? { expectedCurrency: m.currency } : {}), reported: line.gross,
    ...(line.net !== line.gross - line.fee ? { reportedFee: line.fee, reportedNet: line.net } : {}),
  });
  const chargebacksOf = new Map<string, LedgerMovement[]>();
  for (const c of input.chargebacks ?? []) chargebacksOf.set(c.paymentId, [...(chargebacksOf.get(c.paymentId) ?? []), c]);
  /** The operations a line may name: its reference itself, and what it and its PSP reference are known as. */
  const namedBy = (line: SettlementLine): string[] => [...new Set([
    line.reference, ...(input.knownAs?.get(line.reference) ?? []), ...(line.pspReference ? input.knownAs?.get(line.pspReference) ?? [] : []),
  ])];
  const candidatesOf = (line: SettlementLine, ids: readonly string[]) => ids.flatMap((id) => byKey.get(key(id, line.type)) ?? []);
  const agrees = (line: SettlementLine, m: LedgerMovement) => !m.settled && m.currency === line.currency && m.gross === line.gross;
  /** The capture a dispute line names, when it names no dispute record of the gateway's. */
  const capturedBy = (line: SettlementLine, ids: readonly string[]) => disputeLineTypes.has(line.type) ? ids.map((id) => captures.get(id)).find((c) => c !== undefined) : undefined;
  /**
   * Whether a line agrees with a movement not matched yet (its currency and gross), named directly or,
   * for a dispute line naming the capture, among that payment's disputes: such lines are matched first.
   */
  const exact = (line: SettlementLine) => {
    const ids = namedBy(line);
    if (candidatesOf(line, ids).some((m) => agrees(line, m))) return true;
    const captured = capturedBy(line, ids);
    return captured !== undefined && (chargebacksOf.get(captured.paymentId) ?? []).some((c) => c.type === line.type && agrees(line, c));
  };
  // Lines that agree with a movement go first, whatever their place in the report: a line off by a
  // cent listed before the right one (or before the right one of another capture under the same
  // reference) would otherwise take the movement, and the right line be called a mismatch or a
  // duplicate, with its money left receivable.
  // A clawback (a line whose sign only an undo has) goes after the line of the money it takes back.
  const clawsBack = (line: SettlementLine) => {
    const signed = candidatesOf(line, namedBy(line)).filter((m) => Math.sign(m.gross) === Math.sign(line.gross));
    return signed.length > 0 && signed.every((m) => m.undo);
  };
  // Each line's place is worked out once (a report may hold tens of thousands); the sort keeps the report's order within a place.
  const place = new Map(input.report.lines.map((l) => [l, (clawsBack(l) ? 2 : 0) + (exact(l) ? 0 : 1)]));
  const ordered = [...input.report.lines].sort((a, b) => place.get(a)! - place.get(b)!);
  for (const line of ordered) {
    const ids = namedBy(line);
    let m = movementFor(line, candidatesOf(line, ids), taken);
    // A chargeback (or its reversal) line naming the capture it took back (or restored): the
    // payment's own record of that kind and amount, not settled yet, when the gateway has one. One
    // settled already, or matched by an earlier line of this report, makes the line a duplicate
    // while the dispute stands (more chargebacks recorded than reversals: each reversal follows a
    // chargeback): a scheme charges a capture back again only after the first was reversed (the
    // issuer's second presentment), which is a new chargeback, standing in its turn. Else it is a
    // late chargeback, below.
    const captured = m ? undefined : capturedBy(line, ids);
    if (captured) {
      const disputes = chargebacksOf.get(captured.paymentId) ?? [];
      const fits = disputes.filter((c) => c.type === line.type && c.gross === line.gross && c.currency === line.currency);
      const recorded = (type: SettlementLineType) => disputes.filter((c) => c.type === type).length;
      const standing = line.type !== 'chargeback' || recorded('chargeback') > recorded('chargeback_reversal');
      const ofType = disputes.filter((c) => c.type === line.type);
      const done = (c: LedgerMovement) => c.settled || taken.has(movementKey(c));
      m = fits.find((c) => !done(c)) ?? (standing ? fits.find(done) : undefined)
        // The payment's own record of that kind, of another amount: the line disagrees with it (an
        // amount mismatch), or repeats it once settled while it stands (a duplicate); either way it is
        // not a chargeback the gateway lacks.
        ?? ofType.find((c) => !done(c)) ?? (standing ? ofType.find(done) : undefined);
    }
    if (m) named.add(movementKey(m));
    if (!m) {
      const late = input.late?.get(line.reference) ?? (line.pspReference !== undefined ? input.late?.get(line.pspReference) : undefined);
      // A chargeback of the capture the gateway has none for (the ledger's chargebacks: none, 0); a
      // reversal (money given back) it has none for is a movement of that type it does not know, not
      // a chargeback: the ledger says nothing of it.
      if (captured) {
        if (line.type === 'chargeback') add('late_chargeback', line, { ...captured, gross: 0 });
        else add('unknown_reference', line, captured, { expected: undefined });
      }
      else if (late) discrepancies.push({ kind: 'late_approval', reference: line.reference, ...late, currency: line.currency, expected: undefined, reported: line.gross });
      else add('unknown_reference', line, undefined);
    } else if (m.settled || taken.has(movementKey(m))) add('duplicate_line', line, m);
    else if (m.currency !== line.currency || m.gross !== line.gross || line.net !== line.gross - line.fee) add('amount_mismatch', line, m);
    else {
      taken.add(movementKey(m));
      matched.push({ line, movement: m });
    }
  }
  for (const m of input.due) {
    if (m.settled || named.has(movementKey(m))) continue;
    discrepancies.push({
      kind: 'missing_line', reference: m.operationId, operationId: m.operationId, paymentId: m.paymentId, merchantId: m.merchantId,
      currency: m.currency, expected: m.gross, reported: undefined,
    });
  }
  const nets = new Map<string, number>();
  for (const l of input.report.lines) nets.set(l.currency, (nets.get(l.currency) ?? 0) + l.net);
  const paid = new Map<string, number>();
  for (const p of input.report.payouts) paid.set(p.currency, (paid.get(p.currency) ?? 0) + p.amount);
  for (const currency of [...new Set([...nets.keys(), ...paid.keys()])].sort()) {
    const want = nets.get(currency) ?? 0, got = paid.get(currency);
    // A day whose lines net to nothing is paid nothing: PSPs list no payout for it.
    if (got !== want && !(got === undefined && want === 0)) {
      discrepancies.push({
        kind: 'payout_mismatch', reference: `payout:${currency}`, operationId: undefined, paymentId: undefined, merchantId: input.merchantId,
        currency, expected: want, reported: got,
      });
    }
  }
  return { matched, discrepancies };
}

/**
 * The postings a matched line makes: the fee from receivable to fees, and the net from receivable
 * to settled (back from settled when the net is negative: the acquirer debits the merchant). Keyed
 * by the movement's operation and phase `settled`, so no movement settles twice; the undo of a
 * settled movement (the PSP's clawback) numbers its legs from `clawbackLeg`.
 */
export function settlementPostingsOf(match: Match, transferId: string, now: number): Posting[] {
  const { line, movement: m } = match;
  const legs: { debit: AccountKind; credit: AccountKind; amount: number }[] = [];
  if (line.fee > 0) legs.push({ debit: 'fees', credit: 'receivable', amount: line.fee });
  if (line.net > 0) legs.push({ debit: 'settled', credit: 'receivable', amount: line.net });
  if (line.net < 0) legs.push({ debit: 'receivable', credit: 'settled', amount: -line.net });
  const from = m.undo ? clawbackLeg : 0;
  return legs.map((l, i) => ({
    ...l, id: `${m.operationId}:settled:${from + i}`, transferId, operationId: m.operationId, paymentId: m.paymentId, merchantId: m.merchantId,
    currency: m.currency as Currency, pspAccountId: m.pspAccountId, phase: 'settled', leg: from + i, createdAt: now,
  }));
}

/** Per currency: what the report pays out and what its matched lines add up to. */
export interface ReconciliationSummary {
  readonly reportId: string;
  readonly pspAccountId: string;
  readonly day: string;
  readonly lines: number;
  readonly matched: number;
  readonly discrepancies: Readonly<Partial<Record<DiscrepancyKind, number>>>;
  readonly payouts: readonly { currency: string; reported: number; matchedNet: number; fees: number }[];
}

export function summaryOf(reportId: string, pspAccountId: string, report: SettlementReport, result: ReconciliationResult): ReconciliationSummary {
  const kinds: Partial<Record<DiscrepancyKind, number>> = {};
  for (const d of result.discrepancies) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
  const currencies = [...new Set([...report.payouts.map((p) => p.currency as string), ...report.lines.map((l) => l.currency as string)])].sort();
  return {
    reportId, pspAccountId, day: report.day, lines: report.lines.length, matched: result.matched.length, discrepancies: kinds,
    payouts: currencies.map((currency) => ({
      currency,
      reported: report.payouts.filter((p) => p.currency === currency).reduce((s, p) => s + p.amount, 0),
      matchedNet: result.matched.filter((x) => x.line.currency === currency).reduce((s, x) => s + x.line.net, 0),
      fees: result.matched.filter((x) => x.line.currency === currency).reduce((s, x) => s + x.line.fee, 0),
    })),
  };
}
