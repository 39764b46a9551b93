import { loadConfig } from '../config.ts';
import { loadMasterKey } from '../vault/keyring.ts';
import { keyVersionNotOpened } from '../vault/service.ts';
import { BackupRefused, backupSqlite, restoreSqlite, type CopySummary } from '../storage/sqlite-backup.ts';

export const backupUsage = `  switchyard backup FILE [--json]    a consistent copy of the embedded store, taken while gateways run
  switchyard restore FILE [--json]   puts a backup in place as the store of an empty SWITCHYARD_DATA_DIR`;

const keyReminder = 'card numbers in it open only with the master key (SWITCHYARD_MASTER_KEY, or master.key in the data folder): '
  + 'keep a copy of that key, and keep it apart from the backups';

/** `backup FILE` and `restore FILE`: the embedded store only; PostgreSQL has its own tools for both. */
export function backupCli(group: 'backup' | 'restore', file: string | undefined, extra: readonly string[], json: boolean): number {
  if (!file || extra.length > 0) { process.stderr.write(`usage:\n${backupUsage}\n`); return 2; }
  const config = loadConfig();
  if (config.storage.kind !== 'sqlite') {
    process.stderr.write(`${group} copies the embedded SQLite store; on PostgreSQL (DATABASE_URL is set) use PostgreSQL's own backups `
      + '(pg_dump of the gateway\'s schema, or base backups with WAL archiving), and keep the master key apart from them\n');
    return 2;
  }
  try {
    const summary = group === 'backup'
      ? backupSqlite(config.dataDir, file)
      : restoreSqlite(file, config.dataDir, masterKeyGiven(config.masterKey, config.dataDir), keyVersionNotOpened);
    if (json) process.stdout.write(JSON.stringify({ ...summary, newestPaymentAt: at(summary) ?? null }) + '\n');
    else process.stdout.write(`${group === 'backup' ? 'backed up to' : 'restored as'} ${summary.file}: ${described(summary)}\n${keyReminder}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof BackupRefused)) throw err;
    process.stderr.write(`${err.message}\n`);
    return err.usage ? 2 : 1;
  }
}

/** The master key the gateway would start with, never one made up here: without one there is nothing to check the copy against. */
function masterKeyGiven(configured: string | undefined, dataDir: string): Buffer | undefined {
  const key = loadMasterKey({ configured, dataDir });
  return key.fresh ? undefined : key.key;
}

const at = (s: CopySummary) => s.newestPaymentAt === undefined ? undefined : new Date(s.newestPaymentAt).toISOString();

function described(s: CopySummary): string {
  return `${s.bytes} bytes, ${s.merchants} merchants, ${s.payments} payments${s.payments > 0 ? ` (the newest made ${at(s)})` : ''}, ${s.cards} cards, ${s.keyVersions} key versions`;
}
