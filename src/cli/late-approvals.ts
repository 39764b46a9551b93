import { writeLine } from './terminal.ts';
import { holdsCardNumber } from '../runtime/scrub.ts';
import { loadConfig } from '../config.ts';
import { openStorage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { formatMajorUnits } from '../money/money.ts';
import { createLateApprovalStore } from '../payments/late-approvals-store.ts';
import { pageLimit } from './limit.ts';

export const lateApprovalsUsage = `  switchyard late-approvals list [--all] [--limit N] [--json]
                        charges a PSP approved after the gateway had ended their attempts, newest first: those
                        still being reversed or left to an operator (--all: every one)
  switchyard late-approvals resolve ATTEMPT_ID --note TEXT   one not yet reversed, reversed (or settled) by hand at the PSP`;

export const lateApprovalOptions = { all: { type: 'boolean' }, note: { type: 'string' } } as const;

/** What the `reverse-late-approvals` job could not give back, for the operator who must. */
export async function lateApprovalsCli(command: string | undefined, attemptId: string | undefined, values: Record<string, string | boolean | undefined>): Promise<number> {
  const usage = () => { process.stderr.write(`usage:\n${lateApprovalsUsage}\n`); return 2; };
  if (command !== 'list' && command !== 'resolve') return usage();
  const limit = pageLimit(typeof values.limit === 'string' ? values.limit : undefined, 50, 1000);
  if (limit === undefined) { process.stderr.write('--limit must be a whole number from 1 to 1000\n'); return 2; }
  const note = typeof values.note === 'string' ? values.note.trim() : '';
  if (command === 'resolve' && (!attemptId || !note)) { process.stderr.write('an attempt id and --note are required\n'); return usage(); }
  // The note is kept and listed: a card number typed there (the card refunded by hand) is refused,
  // as in every other operator note.
  if (command === 'resolve' && holdsCardNumber(note, 'any')) {
    process.stderr.write('--note holds what looks like a card number; describe the card by its last four digits\n');
    return 2;
  }
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    const store = createLateApprovalStore(storage.uow);
    if (command === 'resolve') {
      const before = await store.get(attemptId!);
      if (await store.resolve(attemptId!, note, systemClock.now())) {
        // The gateway's own try may still be made: then the cardholder gets the money back twice.
        if (before?.inDoubt) process.stderr.write(`warning: the gateway's ${before.reversal} under key ${before.reversalId} was sent and the PSP has not said how it ended; check at the PSP that it was not made as well\n`);
        process.stdout.write(`resolved ${attemptId}\n`);
        return 0;
      }
      const found = await store.get(attemptId!);
      process.stderr.write(found ? `${attemptId} is ${found.status} already\n` : `no late approval of attempt ${attemptId}\n`);
      return 1;
    }
    const rows = (await store.list({ open: values.all !== true, limit })).map((a) => ({
      attemptId: a.attemptId, paymentId: a.paymentId, merchantId: a.merchantId, pspAccountId: a.accountId, operation: a.operation,
      pspReference: a.pspReference ?? null, amount: formatMajorUnits(a.amount), currency: a.amount.currency, reversal: a.reversal ?? null,
      status: a.status, refusals: a.refusals, lastResult: a.lastResult ?? null, foundAt: new Date(a.foundAt).toISOString(),
    }));
    if (values.json) { process.stdout.write(JSON.stringify(rows) + '\n'); return 0; }
    if (rows.length === 0) process.stdout.write(values.all === true ? 'no late approvals\n' : 'none waiting to be reversed\n');
    for (const r of rows) {
      writeLine(`${r.foundAt}  ${r.attemptId}  ${r.status.padEnd(9)} ${r.operation.padEnd(9)} ${r.amount.padStart(12)} ${r.currency}  psp ${r.pspReference ?? '-'}  ${r.lastResult ?? ''}`);
    }
    return 0;
  } finally {
    await storage.close();
  }
}
