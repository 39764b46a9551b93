import { loadConfig } from '../config.ts';
import { openStorage } from '../storage/database.ts';
import { systemClock } from '../runtime/clock.ts';
import { exponentOf, isCurrency } from '../money/money.ts';
import { createLedgerStore } from '../ledger/kysely-store.ts';
import { createLedgerService } from '../ledger/service.ts';

export const ledgerUsage = `  switchyard ledger verify [--json]    checks the books; exits 1 naming the first broken invariant
  switchyard ledger balances --merchant ID [--json]    balances per account, currency and PSP account (debits minus credits)`;

const decimal = (minor: number, currency: string): string => {
  const e = isCurrency(currency) ? exponentOf(currency) : 2;
  const sign = minor < 0 ? '-' : '';
  const s = String(Math.abs(minor)).padStart(e + 1, '0');
  return e === 0 ? sign + s : `${sign}${s.slice(0, -e)}.${s.slice(-e)}`;
};

/** The books over the same store the server uses. */
export async function ledgerCli(command: string | undefined, values: { merchant?: string | undefined; json?: boolean | undefined }): Promise<number> {
  if (command !== 'verify' && command !== 'balances') { process.stderr.write(`usage:\n${ledgerUsage}\n`); return 2; }
  if (command === 'balances' && !values.merchant) { process.stderr.write(`--merchant is required\nusage:\n${ledgerUsage}\n`); return 2; }
  const config = loadConfig();
  const storage = await openStorage(config.storage);
  try {
    const ledger = createLedgerService({ store: createLedgerStore(storage.uow), clock: systemClock });
    if (command === 'verify') {
      const broken = await ledger.verify();
      if (values.json) process.stdout.write(JSON.stringify({ ok: broken === undefined, ...(broken ? { broken } : {}) }) + '\n');
      else if (broken) process.stderr.write(`ledger broken: ${broken}\n`);
      else process.stdout.write('ledger ok\n');
      return broken ? 1 : 0;
    }
    const balances = (await ledger.balances(values.merchant!)).map(({ merchantId: _, ...b }) => b);
    if (values.json) process.stdout.write(JSON.stringify({ merchantId: values.merchant, balances }) + '\n');
    else for (const b of balances) process.stdout.write(`${b.currency}  ${b.pspAccountId.padEnd(20)}  ${b.kind.padEnd(12)}  ${decimal(b.balance, b.currency).padStart(16)}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}
