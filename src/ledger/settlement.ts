import { createHash } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import type { Tx, UnitOfWork } from '../storage/unit-of-work.ts';
import { addOutboxEvent } from '../webhooks/outbox.ts';
import { hasControlCharacter } from '../runtime/control-characters.ts';
import { serializeSettlementReport, type SettlementLine, type SettlementReport } from '../processors/settlement-report.ts';
import { defaultFees, parseFees, simulatedSettlementReport, type ProcessedMovement, type SettlementInjection } from '../processors/simulator/settlement.ts';
import type { Currency } from '../money/money.ts';
import { postingsExport, type ExportFormat } from './export.ts';
import {
  movementOf, reconcile, settledKey, settlementPostingsOf, summaryOf, type LedgerMovement, type ReconciliationSummary,
} from './reconciliation.ts';
import { isUndo, type Posting } from './model.ts';
import { holdsCardNumber, replacePans } from '../runtime/scrub.ts';
import type { DiscrepancyFilter, DiscrepancyRecord, LedgerStore, SettlementAccount, SettlementStore } from './store.ts';

const day = 86_400_000;

/**
 * What one report line may add to its import's unit of work beyond the gateway's unit deadline: it
 * posts its movement and may open (and announce) a discrepancy, a few round trips on PostgreSQL.
 */
const perLineAllowanceMs = 5;


/** The most discrepancies one page of a list holds (the admin API's, the CLI's). */
export const maxDiscrepancyPage = 1000;
export type SettlementError =
  | { code: 'psp_account_unknown'; message: string }
  | { code: 'psp_account_ambiguous'; message: string }
  | { code: 'report_account_mismatch'; message: string }
  | { code: 'not_simulated'; message: string }
  | { code: 'discrepancy_not_open'; message: string }
  | { code: 'note_holds_card_number'; message: string }
  | { code: 'note_required'; message: string };

/** The longest note a resolution keeps (it is shown, exported and sent in a webhook). */
const maxNoteLength = 2000;

type Result<T> = { ok: true; value: T } | { ok: false; error: SettlementError };

/** Postings read per statement of an export. */
const exportPage = 1000;

export interface ReconciliationOutcome {
  /** False when the same report was imported before: nothing changed, the first import's summary is returned. */
  readonly imported: boolean;
  readonly summary: ReconciliationSummary;
  readonly discrepancies: readonly DiscrepancyRecord[];
}

export interface SettlementService {
  /** The PSP account a name means (for a merchant, or the only one so named). */
  account(name: string, merchantId: string | undefined): Promise<Result<SettlementAccount>>;
  /** A simulated acquirer's report of one day (UTC) for one of its accounts; `inject` adds disagreements for tests. */
  simulatedReport(account: SettlementAccount, day: string, options?: { inject?: readonly SettlementInjection[]; random?: () => number }):
    Promise<Result<{ report: SettlementReport; injected: { kind: SettlementInjection; reference: string }[] }>>;
  /** Matches a report to the ledger and records the outcome in one unit of work; the same report again changes nothing. */
  reconcile(account: SettlementAccount, report: SettlementReport): Promise<Result<ReconciliationOutcome>>;
  discrepancies(filter: DiscrepancyFilter): Promise<DiscrepancyRecord[]>;
  resolve(id: string, note: string): Promise<Result<DiscrepancyRecord>>;
  /** Postings made within [from, to) as CSV or JSON. */
  /** The postings made in [from, to), written as they are read. */
  exportPostings(window: { from: number; to: number; merchantId?: string | undefined }, format: ExportFormat): AsyncIterable<string>;
}

const dayStart = (d: string) => Date.parse(`${d}T00:00:00Z`);

/**
 * The movements of `postings`; `settled` holds the `settledKey`s of those a settlement posted.
 * `history` holds every receivable posting of their operations (by default, `postings`
 * themselves): an operation undone after its PSP confirmed it (a capture the scheme rejected)
 * before any report settled it moved nothing, so no report is expected to list it, also when the
 * undo was posted on a later day than the movement. One a report had settled (paid out) moved
 * money twice: its undo is what the PSP owes back, a clawback a report of the undo's day is
 * expected to carry (a line of the same type and reference, with the opposite sign). `keepUndone`:
 * the movements a report's lines may name keep such an operation, since a report made before the
 * PSP took it back lists it (paid out then, and clawed back in that report or a later one) however
 * late it is imported; its undo is matched only once its movement is settled (reconciliation.ts).
 */
function movementsOf(postings: readonly Posting[], settled: ReadonlySet<string>, history: readonly Posting[] = postings, keepUndone = false): LedgerMovement[] {
  const of = (list: readonly Posting[]) => list.flatMap((p) => {
    const m = movementOf(p);
    const undo = isUndo(p);
    return m ? [{ operationId: p.operationId, paymentId: p.paymentId, merchantId: p.merchantId, pspAccountId: p.pspAccountId, currency: p.currency, undo, settled: settled.has(settledKey(p.operationId, undo)), ...m }] : [];
  });
  const everything = of(history);
  const net = new Map<string, number>();
  for (const m of everything) net.set(m.operationId, (net.get(m.operationId) ?? 0) + m.gross);
  const undone = new Set(everything.filter((m) => m.undo && net.get(m.operationId) === 0 && !settled.has(settledKey(m.operationId, false))).map((m) => m.operationId));
  return keepUndone ? of(postings) : of(postings).filter((m) => !undone.has(m.operationId));
}

/**
 * Settlement reports and reconciliation. Reads the ledger's movements before its unit of work
 * (never through `db` inside it); inside it, under the PSP account's lock, reads which are settled
 * already, then writes the report's record, the matched lines' postings, the discrepancies and
 * their webhook events together: a crash leaves all of it or none.
 */
export function createSettlementService(deps: { uow: UnitOfWork; store: SettlementStore; ledger: LedgerStore; clock: Clock; ids: Ids }): SettlementService {
  const { uow, store, ledger, clock, ids } = deps;

  async function event(tx: Tx, d: DiscrepancyRecord, name: 'settlementDiscrepancyOpened' | 'settlementDiscrepancyResolved', workspaceId: string | undefined, at: number) {
    if (!d.merchantId) return;
    await addOutboxEvent(tx, {
      id: ids.hex32(), merchantId: d.merchantId, type: `execution.${name}`, subjectId: d.id, createdAt: at,
      payload: {
        event: name, time: new Date(at).toISOString(), workspaceId, eventTrigger: 'settlement',
        details: {
          discrepancyId: d.id, kind: d.kind, status: d.status, reference: d.reference, paymentId: d.paymentId, currency: d.currency,
          expectedAmount: d.expected, ...(d.expectedCurrency ? { expectedCurrency: d.expectedCurrency } : {}), reportedAmount: d.reported,
          ...(d.reportedNet !== undefined ? { reportedFee: d.reportedFee, reportedNet: d.reportedNet } : {}), reportId: d.reportId, ...(d.note ? { note: d.note } : {}),
        },
      },
    });
  }

  return {
    async account(name, merchantId) {
      const found = await store.accountsNamed(name, merchantId);
      if (found.length === 0) return { ok: false, error: { code: 'psp_account_unknown', message: `no PSP account named ${name}${merchantId ? ` for merchant ${merchantId}` : ''}` } };
      if (found.length > 1) return { ok: false, error: { code: 'psp_account_ambiguous', message: `several merchants have a PSP account named ${name}: name the merchant` } };
      return { ok: true, value: found[0]! };
    },

    async simulatedReport(account, d, options = {}) {
      if (account.connector !== 'simulator') return { ok: false, error: { code: 'not_simulated', message: `PSP account ${account.name} is not a simulated acquirer` } };
      const settings = (account.settings ?? {}) as Record<string, unknown>;
      const fees = parseFees(settings.fees);
      const from = dayStart(d);
      const postings = await store.receivablePostings(account.id, { from, to: from + day });
      const history = await store.receivablePostings(account.id, { operationIds: postings.map((p) => p.operationId) });
      const settled = await uow.run((tx) => store.writer(tx).settledMovements(postings.map((p) => p.operationId)));
      const all = movementsOf(postings, settled, history);
      const movements: ProcessedMovement[] = all.filter((m) => !m.undo).map((m) => ({
        reference: m.operationId, pspReference: undefined, type: m.type, amount: Math.abs(m.gross), currency: m.currency as Currency,
      }));
      const made = simulatedSettlementReport({
        pspAccount: account.name, merchantId: account.merchantId, day: d, movements, fees: fees.ok ? fees.value : defaultFees,
        ...(options.inject ? { inject: options.inject } : {}), ...(options.random ? { random: options.random } : {}),
      });
      // The undo of a movement it had paid out: the acquirer claws it back, without a fee.
      const valueDate = new Date(from + day).toISOString().slice(0, 10);
      const clawbacks: SettlementLine[] = all.filter((m) => m.undo).map((m) => ({
        reference: m.operationId, pspReference: undefined, type: m.type, gross: m.gross, fee: 0, net: m.gross, currency: m.currency as Currency, valueDate,
      }));
      if (clawbacks.length === 0) return { ok: true, value: made };
      const lines = [...made.report.lines, ...clawbacks];
      const sums = new Map<Currency, number>();
      for (const l of lines) sums.set(l.currency, (sums.get(l.currency) ?? 0) + l.net);
      const payouts = [...sums].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount, valueDate }));
      return { ok: true, value: { report: { ...made.report, lines, payouts }, injected: made.injected } };
    },

    async reconcile(account, report) {
      if (report.pspAccount !== account.name || (report.merchantId !== undefined && report.merchantId !== account.merchantId)) {
        return { ok: false, error: { code: 'report_account_mismatch', message: `the report is for ${report.pspAccount}${report.merchantId ? ` of merchant ${report.merchantId}` : ''}, not ${account.name}` } };
      }
      const reportId = createHash('sha256').update(`${account.id}\n${serializeSettlementReport(report)}`).digest('hex');
      const from = dayStart(report.day);
      const references = report.lines.map((l) => l.reference);
      // A PSP names a movement by what it knows: the gateway's operation id where it was given one,
      // else the attempt id a connector sends as the merchant reference, or its own reference.
      const knownAs = await store.operationsKnownAs(account.id, [...references, ...report.lines.flatMap((l) => (l.pspReference ? [l.pspReference] : []))]);
      const aliased = [...knownAs.values()].flat();
      const [named, due, late] = await Promise.all([
        store.receivablePostings(account.id, { operationIds: [...references, ...aliased] }),
        store.receivablePostings(account.id, { from, to: from + day }),
        store.lateApprovalReferences(account.id, [...references, ...report.lines.flatMap((l) => (l.pspReference ? [l.pspReference] : []))]),
      ]);
      // The day's movements whose operation posted on other days too (undone later, or undoing an earlier one).
      const history = await store.receivablePostings(account.id, { operationIds: due.map((p) => p.operationId) });
      // A chargeback (or its reversal) the PSP reports by the capture it concerns (it knows no id of
      // the gateway's own record): the movements of those payments, whose own disputes they may be.
      const chargedCaptures = new Set(report.lines.filter((l) => l.type === 'chargeback' || l.type === 'chargeback_reversal')
        .flatMap((l) => [l.reference, ...(knownAs.get(l.reference) ?? []), ...(l.pspReference ? knownAs.get(l.pspReference) ?? [] : [])]));
      const chargedPayments = [...new Set(named.filter((p) => chargedCaptures.has(p.operationId)).map((p) => p.paymentId))];
      const ofChargedPayments = chargedPayments.length > 0 ? await store.receivablePostings(account.id, { paymentIds: chargedPayments }) : [];
      const now = clock.now();
      const merchants = [account.merchantId, ...named.map((p) => p.merchantId), ...due.map((p) => p.merchantId), ...[...late.values()].map((l) => l.merchantId)];
      const workspaces = await store.workspaces(merchants.flatMap((m) => (m ? [m] : [])));
      // What is settled already is read under the account's lock, inside the unit that posts: two
      // reports naming one movement, imported at once, would otherwise both settle it.
      const imported = await uow.run(async (tx) => {
        const w = store.writer(tx);
        await w.lockAccount(account.id);
        const settled = await w.settledMovements([...named, ...due, ...ofChargedPayments].map((p) => p.operationId));
        const result = reconcile({
          report, merchantId: account.merchantId, known: movementsOf(named, settled, named, true), due: movementsOf(due, settled, history), late, knownAs,
          chargebacks: movementsOf(ofChargedPayments, settled).filter((m) => (m.type === 'chargeback' || m.type === 'chargeback_reversal') && !m.undo),
        });
        const summary = summaryOf(reportId, account.id, report, result);
        // A line's reference that is not a name of the operation it opened a discrepancy for is the
        // PSP's text, and may be a card number (a report keyed by the card, its line found through
        // its PSP reference): kept, shown and sent only masked. The gateway's own ids stay whole.
        const namesItsOperation = (d: (typeof result.discrepancies)[number]) => (d.kind === 'late_approval' && late.has(d.reference))
          || (d.operationId !== undefined && (d.reference === d.operationId || (knownAs.get(d.reference) ?? []).includes(d.operationId)));
        const records: DiscrepancyRecord[] = result.discrepancies.map((d) => ({
          id: ids.hex32(), reportId, pspAccountId: account.id, merchantId: d.merchantId, kind: d.kind,
          reference: namesItsOperation(d) ? d.reference : replacePans(d.reference, (digits) => `****${digits.slice(-4)}`, 'any'),
          paymentId: d.paymentId, operationId: d.operationId, currency: d.currency, expected: d.expected, expectedCurrency: d.expectedCurrency, reported: d.reported,
          reportedFee: d.reportedFee, reportedNet: d.reportedNet,
          status: 'open', note: undefined, createdAt: now, resolvedAt: undefined,
        }));
        // The same report imported before (or meanwhile): the first write, so nothing else is written.
        if (!(await w.insertReport({ id: reportId, pspAccountId: account.id, day: report.day, summary: JSON.stringify(summary), importedAt: now }))) return undefined;
        await ledger.writer(tx).post(result.matched.flatMap((m) => settlementPostingsOf(m, reportId, now)));
        await w.insertDiscrepancies(records);
        for (const r of records) await event(tx, r, 'settlementDiscrepancyOpened', r.merchantId ? workspaces.get(r.merchantId) : undefined, now);
        return { summary, records };
      }, { allowanceMs: report.lines.length * perLineAllowanceMs });
      if (imported) return { ok: true, value: { imported: true, summary: imported.summary, discrepancies: imported.records } };
      const stored = await store.reportSummary(reportId);
      if (!stored) throw new Error(`settlement report ${reportId} was recorded without its summary`);
      return { ok: true, value: { imported: false, summary: JSON.parse(stored) as ReconciliationSummary, discrepancies: await store.discrepancies({ reportId }) } };
    },

    discrepancies: (filter) => store.discrepancies(filter),

    async resolve(id, note) {
      // Checked here, not at each door: the admin API and the CLI keep and send the same notes.
      if (note.trim() === '' || [...note].length > maxNoteLength || hasControlCharacter(note)) {
        return { ok: false, error: { code: 'note_required', message: `note (at most ${maxNoteLength} characters, without control characters) says how it was resolved` } };
      }
      // An operator's words are kept, shown and sent to webhooks: a card number typed there (the
      // card a refund went to by hand) is refused, as in every other field of human text.
      if (holdsCardNumber(note, 'any')) {
        return { ok: false, error: { code: 'note_holds_card_number', message: 'the note holds what looks like a card number; describe the card by its last four digits' } };
      }
      const now = clock.now();
      const [before] = await store.discrepancies({ id });
      const workspaceId = before?.merchantId ? (await store.workspaces([before.merchantId])).get(before.merchantId) : undefined;
      const resolved = await uow.run(async (tx) => {
        const d = await store.writer(tx).resolve(id, note, now);
        if (d) await event(tx, d, 'settlementDiscrepancyResolved', workspaceId, now);
        return d;
      });
      return resolved ? { ok: true, value: resolved } : { ok: false, error: { code: 'discrepancy_not_open', message: `no open discrepancy ${id}` } };
    },

    exportPostings(window, format) {
      // Read a page at a time, in the export's order: each page is one short statement (on the
      // embedded store, the event loop goes on between them).
      async function* pages() {
        let after: Posting | undefined;
        for (;;) {
          const page = await store.postingsPage(window.from, window.to, window.merchantId, after, exportPage);
          yield page;
          if (page.length < exportPage) return;
          after = page.at(-1);
        }
      }
      return postingsExport(pages(), format, window);
    },
  };
}
