import { writeLine } from './terminal.ts';
import { reviewNoticeOf } from '../processors/result-codes.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config.ts';
import { openStorage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { parseFilter } from '../search/model.ts';
import { createPaymentSearch } from '../search/kysely-store.ts';
import { createCardDataScreen } from '../vault/free-text.ts';
import { loadMasterKey } from '../vault/keyring.ts';
import { deriveKey } from '../runtime/crypto.ts';
import { createPaymentStore } from '../payments/kysely-store.ts';
import { createLedgerStore } from '../ledger/kysely-store.ts';
import { createLedgerService } from '../ledger/service.ts';
import { paymentStoryJson, summaryJson } from '../admin/payment-routes.ts';

export const paymentsUsage = `  switchyard payments list [--q TEXT] [--merchant ID] [--status S] [--outcome unknown|pending] [--currency C] [--account PSP_ACCOUNT_ID] [--channel opp|executions]
                           [--from DATE] [--to DATE] [--min AMOUNT] [--max AMOUNT] [--cursor C] [--limit N] [--json]
                        newest first (--account: the id psp-accounts list shows); --q finds a payment, operation or execution id, order reference, PSP reference or last 4 digits
  switchyard payments show ID [--json]     one payment: operations, attempts, 3-D Secure, webhooks, ledger postings`;

export const paymentOptions = {
  q: { type: 'string' }, currency: { type: 'string' }, account: { type: 'string' }, channel: { type: 'string' },
  from: { type: 'string' }, to: { type: 'string' }, min: { type: 'string' }, max: { type: 'string' }, cursor: { type: 'string' },
  outcome: { type: 'string' },
} as const;

/** The dashboard's payment list and payment page, in a terminal (the same query module). */
export async function paymentsCli(command: string | undefined, id: string | undefined, values: Record<string, string | boolean | undefined>): Promise<number> {
  if (command !== 'list' && command !== 'show') { process.stderr.write(`usage:\n${paymentsUsage}\n`); return 2; }
  if (command === 'show' && !id) { process.stderr.write(`a payment id is required\nusage:\n${paymentsUsage}\n`); return 2; }
  const filterText = Object.fromEntries(['q', 'merchant', 'status', 'outcome', 'currency', 'account', 'channel', 'from', 'to', 'min', 'max', 'cursor', 'limit']
    .map((k) => [k, values[k]]).filter(([, v]) => typeof v === 'string'));
  const parsed = parseFilter(filterText, 20);
  if (!parsed.ok) { process.stderr.write(`--${parsed.error.field} ${parsed.error.message}\n`); return 2; }
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    // References holding a card number were stored under the gateway's mask: --q finds them as typed,
    // with the gateway's key (a search never makes a key where there is none).
    const keyed = config.masterKey !== undefined || existsSync(join(config.dataDir, 'master.key'));
    const screen = keyed ? createCardDataScreen(deriveKey(loadMasterKey({ configured: config.masterKey, dataDir: config.dataDir }).key, 'free-text-card-numbers')) : undefined;
    const search = createPaymentSearch(storage.db, screen?.mask);
    if (command === 'show') {
      const store = createPaymentStore(storage.uow);
      const details = async (pid: string) => {
        const payment = await store.payment(pid);
        return payment && { payment, operations: await store.operationsOf(pid), attempts: await store.attemptsOf(pid) };
      };
      const ledger = createLedgerService({ store: createLedgerStore(storage.uow), clock: systemClock });
      const story = await paymentStoryJson({ search, payments: { details }, ledger }, id!);
      if (!story) { process.stderr.write(`no payment ${id}\n`); return 1; }
      if (values.json) { process.stdout.write(JSON.stringify(story) + '\n'); return 0; }
      const p = story.payment as Record<string, unknown>;
      const lines = [`payment ${id}  ${p.status}  ${p.amount ?? ''} ${p.currency ?? ''}  ${p.merchantName ?? p.merchantId}`];
      for (const o of story.operations) {
        // An approval the acquirer flagged for manual review says so in words, not as a bare success.
        const review = o.status === 'succeeded' ? reviewNoticeOf(o.resultCode) : undefined;
        lines.push(`  ${o.createdAt}  ${o.kind.padEnd(8)} ${o.amount.padStart(12)} ${o.currency}  ${o.status}${o.reason ? ` (${o.reason})` : ''}${o.resultCode ? `  result ${o.resultCode}` : ''}${o.pspReference ? `  psp ${o.pspReference}` : ''}`);
        if (review) lines.push(`      HOLD THE ORDER: ${review}`);
        for (const a of o.attempts) lines.push(`      attempt ${a.seq + 1} at ${a.account} (${a.connector}): ${a.status}${a.reason ? ` ${a.reason}` : ''}${a.latencyMs !== undefined ? `  ${a.latencyMs} ms` : ''}`);
      }
      // Opened, then (once the shopper answered, or it lapsed) ended: each at its own time.
      for (const c of story.threeDSecure) {
        if (c.resolvedAt === undefined) lines.push(`  ${c.createdAt}  3-D Secure ${c.status}`);
        else lines.push(`  ${c.createdAt}  3-D Secure opened`, `  ${c.resolvedAt}  3-D Secure ${c.status}`);
      }
      for (const w of story.webhooks) lines.push(`  ${w.createdAt}  webhook ${w.eventType} → ${w.url}: ${w.status} after ${w.attempts} attempt(s)`);
      for (const x of story.postings) lines.push(`  ${x.createdAt}  ledger ${x.phase}: debit ${x.debit}, credit ${x.credit} ${x.amount} ${x.currency}`);
      for (const line of lines) writeLine(line);
      return 0;
    }
    const page = await search.list(parsed.value);
    const rows = page.payments.map(summaryJson);
    if (values.json) { process.stdout.write(JSON.stringify({ payments: rows, ...(page.next ? { next: page.next } : {}) }) + '\n'); return 0; }
    for (const r of rows) {
      writeLine(`${r.createdAt}  ${r.id}  ${r.status.padEnd(10)} ${r.amount.padStart(12)} ${r.currency}  ${r.card ? `${r.card.brand} ${r.card.last4}` : r.method}  ${r.reference ?? ''}  ${r.merchantName}`);
    }
    if (page.next) process.stdout.write(`more: --cursor ${page.next}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}
