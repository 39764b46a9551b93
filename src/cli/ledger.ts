import { readFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../config.ts';
import { openStorage, type Storage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { randomIds } from '../runtime/ids.ts';
import { isCurrency } from '../money/money.ts';
import { createLedgerStore } from '../ledger/kysely-store.ts';
import { createLedgerService } from '../ledger/service.ts';
import { createSettlementStore } from '../ledger/settlement-store.ts';
import { createSettlementService, maxDiscrepancyPage, type SettlementService } from '../ledger/settlement.ts';
import { isExportFormat, parseInstant } from '../ledger/export.ts';
import { formatSigned, isDay, parseSettlementReport, serializeSettlementReport } from '../processors/settlement-report.ts';
import { isSettlementInjection, settlementInjections } from '../processors/simulator/settlement.ts';
import { createMerchantStore } from '../merchants/kysely-store.ts';
import { writeErrorLine, writeLine } from './terminal.ts';
import { decodeCursor, encodeCursor } from '../search/model.ts';
import { pageLimit } from './limit.ts';

export const ledgerUsage = `  switchyard ledger verify [--json]    checks the books; exits 1 naming the first broken invariant
  switchyard ledger balances --merchant ID [--json]    balances per account, currency and PSP account, named (debits minus credits)
  switchyard ledger export --from T --to T [--merchant ID] [--format csv|json] [--out FILE]    postings made in [from, to)
  switchyard ledger discrepancies [--status open|resolved] [--merchant ID] [--limit N] [--cursor C] [--json]
  switchyard ledger resolve --id DISCREPANCY --note TEXT
  switchyard settlement-report --psp-account NAME [--merchant ID] --day YYYY-MM-DD [--inject KINDS] [--out FILE]
      a simulated acquirer's settlement report of that day; --inject ${settlementInjections.join(',')}
  switchyard reconcile --psp-account NAME [--merchant ID] --file REPORT [--json]
      matches a settlement report to the ledger; the same report twice changes nothing

  T is an ISO date (2026-12-06 or 20261206) or date-time (UTC), or epoch milliseconds (10 digits or more). The PSP account "default" is the
  gateway's own acquirer; a name several merchants use needs --merchant.`;

export const ledgerOptions = {
  'psp-account': { type: 'string' }, file: { type: 'string' }, day: { type: 'string' }, inject: { type: 'string' }, out: { type: 'string' },
  from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string' }, id: { type: 'string' }, note: { type: 'string' },
} as const;

type Values = Record<string, string | boolean | undefined>;

const decimal = (minor: number, currency: string): string => (isCurrency(currency) ? formatSigned(minor, currency) : String(minor));
/**
 * What the two sides said, in the currency's decimals: the ledger's (in its own currency where the
 * line's is another) and the report's, with the line's fee and net where its net is not its gross
 * less its fee. Without them the operator needed --json to see what disagreed.
 */
const amountsOf = (d: { currency: string; expected: number | undefined; expectedCurrency: string | undefined; reported: number | undefined; reportedFee: number | undefined; reportedNet: number | undefined }): string => {
  const side = (minor: number | undefined, currency: string) => (minor === undefined ? 'none' : decimal(minor, currency));
  const net = d.reportedNet !== undefined ? ` (fee ${side(d.reportedFee, d.currency)}, net ${side(d.reportedNet, d.currency)})` : '';
  return `ledger ${side(d.expected, d.expectedCurrency ?? d.currency)}, report ${side(d.reported, d.currency)}${net}`;
};

const usageError = (message: string) => { process.stderr.write(`${message}\nusage:\n${ledgerUsage}\n`); return 2; };
const str = (v: string | boolean | undefined) => (typeof v === 'string' && v !== '' ? v : undefined);

/** A merchant named with --merchant must exist: a misspelt id is a failed command (exit 1), not a merchant without money. */
async function unknownMerchant(storage: Storage, merchantId: string | undefined): Promise<boolean> {
  if (merchantId === undefined || await createMerchantStore(storage.uow).byId(merchantId)) return false;
  writeErrorLine(`no merchant ${merchantId}`);
  return true;
}

async function withSettlement(fn: (s: SettlementService, storage: Storage) => Promise<number>, merchantId?: string): Promise<number> {
  const storage = await openStorage(loadConfig().storage);
  try {
    if (await unknownMerchant(storage, merchantId)) return 1;
    const settlement = createSettlementService({
      uow: storage.uow, store: createSettlementStore(storage.uow), ledger: createLedgerStore(storage.uow), clock: systemClock, ids: randomIds,
    });
    return await fn(settlement, storage);
  } finally {
    await storage.close();
  }
}

/**
 * Writes to the file, or to stdout and waits until it is flushed: `process.exit` would cut a large
 * export on a pipe. An export is written as it is read, with the file's or the pipe's backpressure.
 */
const output = async (text: string | AsyncIterable<string>, out: string | undefined) => {
  if (typeof text !== 'string') {
    await pipeline(Readable.from(text), out ? createWriteStream(out) : process.stdout, { end: out !== undefined });
    return;
  }
  if (out) await writeFile(out, text);
  else await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
};

/** Settlement reports and reconciliation over the same store the server uses. */
export async function settlementCli(group: 'settlement-report' | 'reconcile', values: Values): Promise<number> {
  const name = str(values['psp-account']);
  if (!name) return usageError('--psp-account is required');
  const merchant = str(values.merchant);
  if (group === 'settlement-report') {
    const day = str(values.day);
    if (!isDay(day)) return usageError('--day YYYY-MM-DD is required');
    const inject = (str(values.inject) ?? '').split(',').filter(Boolean);
    const bad = inject.find((k) => !isSettlementInjection(k));
    if (bad) return usageError(`--inject: ${bad} is not one of ${settlementInjections.join(', ')}`);
    return withSettlement(async (s) => {
      const account = await s.account(name, merchant);
      if (!account.ok) { writeErrorLine(account.error.message); return 1; }
      const r = await s.simulatedReport(account.value, day, { inject: inject.filter(isSettlementInjection) });
      if (!r.ok) { writeErrorLine(r.error.message); return 1; }
      await output(serializeSettlementReport(r.value.report), str(values.out));
      for (const i of r.value.injected) writeErrorLine(`injected ${i.kind} at ${i.reference}`);
      return 0;
    });
  }
  const file = str(values.file);
  if (!file) return usageError('--file is required');
  const report = parseSettlementReport(await readFile(file, 'utf8'));
  if (!report.ok) { writeErrorLine(`${file}: ${report.error}`); return 1; }
  return withSettlement(async (s) => {
    const account = await s.account(name, merchant);
    if (!account.ok) { writeErrorLine(account.error.message); return 1; }
    const r = await s.reconcile(account.value, report.value);
    if (!r.ok) { writeErrorLine(r.error.message); return 1; }
    const { summary, discrepancies, imported } = r.value;
    if (values.json) { process.stdout.write(JSON.stringify(r.value) + '\n'); return 0; }
    // A report's references and currencies are the PSP's text: written through writeLine, never raw.
    writeLine(`${imported ? 'imported' : 'already imported (nothing changed)'}: report ${summary.reportId.slice(0, 16)} of ${summary.day}, ${summary.lines} lines, ${summary.matched} matched, ${discrepancies.length} discrepancies`);
    for (const p of summary.payouts) writeLine(`  payout ${p.currency} ${decimal(p.reported, p.currency)}  matched net ${decimal(p.matchedNet, p.currency)}  fees ${decimal(p.fees, p.currency)}`);
    for (const d of discrepancies) writeLine(`  ${d.status.padEnd(8)} ${d.kind.padEnd(18)} ${d.reference}  ${d.id}`);
    return 0;
  });
}

/** The books over the same store the server uses. */
export async function ledgerCli(command: string | undefined, values: Values): Promise<number> {
  if (!['verify', 'balances', 'export', 'discrepancies', 'resolve'].includes(command ?? '')) return usageError(`unknown command ${command ?? ''}`);
  const merchant = str(values.merchant);
  if (command === 'balances' && !merchant) return usageError('--merchant is required');
  if (command === 'export') {
    const from = parseInstant(values.from), to = parseInstant(values.to);
    if (from === undefined || to === undefined || to <= from) return usageError('--from and --to (to after from) are required');
    const format = values.format ?? 'csv';
    if (!isExportFormat(format)) return usageError('--format must be csv or json');
    return withSettlement(async (s) => { await output(s.exportPostings({ from, to, merchantId: merchant }, format), str(values.out)); return 0; }, merchant);
  }
  if (command === 'discrepancies') {
    const status = values.status;
    if (status !== undefined && status !== 'open' && status !== 'resolved') return usageError('--status must be open or resolved');
    // A page at a time, as the admin API's list: one read of every row after a large report loaded
    // the whole table, and --limit (an option the CLI parses) was taken and ignored.
    const limit = pageLimit(str(values.limit), maxDiscrepancyPage, maxDiscrepancyPage);
    if (limit === undefined) return usageError(`--limit must be an integer from 1 to ${maxDiscrepancyPage}`);
    const cursor = str(values.cursor);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    if (cursor !== undefined && !after) return usageError('--cursor must be the one a previous page printed');
    return withSettlement(async (s) => {
      const found = await s.discrepancies({ ...(status ? { status } : {}), ...(merchant ? { merchantId: merchant } : {}), ...(after ? { after } : {}), limit: limit + 1 });
      const list = found.slice(0, limit);
      const last = list.at(-1);
      const next = found.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined;
      if (values.json) process.stdout.write(JSON.stringify({ discrepancies: list, ...(next ? { next } : {}) }) + '\n');
      else {
        for (const d of list) writeLine(`${d.id}  ${d.status.padEnd(8)} ${d.kind.padEnd(18)} ${d.currency}${d.expectedCurrency ? ` (ledger ${d.expectedCurrency})` : ''} ${d.reference}  ${amountsOf(d)}${d.note ? `  (${d.note})` : ''}`);
        if (next) writeLine(`more: --cursor ${next}`);
      }
      return 0;
    }, merchant);
  }
  if (command === 'resolve') {
    const id = str(values.id), note = str(values.note)?.trim();
    if (!id || !note) return usageError('--id and --note are required');
    return withSettlement(async (s) => {
      const r = await s.resolve(id, note);
      // The note as given cannot be kept: a usage error naming it, as the admin API's 400.
      if (!r.ok && (r.error.code === 'note_required' || r.error.code === 'note_holds_card_number')) return usageError(`--note: ${r.error.message}`);
      if (!r.ok) { writeErrorLine(r.error.message); return 1; }
      writeLine(`resolved ${r.value.id} (${r.value.kind} ${r.value.reference})`);
      return 0;
    });
  }
  const storage = await openStorage(loadConfig().storage);
  try {
    if (await unknownMerchant(storage, merchant)) return 1;
    const ledger = createLedgerService({ store: createLedgerStore(storage.uow), clock: systemClock });
    if (command === 'verify') {
      const broken = await ledger.verify();
      if (values.json) process.stdout.write(JSON.stringify({ ok: broken === undefined, ...(broken ? { broken } : {}) }) + '\n');
      else if (broken) process.stderr.write(`ledger broken: ${broken}\n`);
      else process.stdout.write('ledger ok\n');
      return broken ? 1 : 0;
    }
    // An operator knows a PSP account by the name it was put under, not by its id.
    const names = new Map((await storage.db.selectFrom('psp_accounts').select(['id', 'name']).where('merchant_id', '=', merchant!).execute()).map((a) => [a.id, a.name]));
    const balances = (await ledger.balances(merchant!)).map(({ merchantId: _, ...b }) => ({ ...b, pspAccountName: names.get(b.pspAccountId) ?? b.pspAccountId }));
    if (values.json) process.stdout.write(JSON.stringify({ merchantId: merchant, balances }) + '\n');
    else for (const b of balances) process.stdout.write(`${b.currency}  ${b.pspAccountName.padEnd(20)}  ${b.kind.padEnd(12)}  ${decimal(b.balance, b.currency).padStart(16)}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}
