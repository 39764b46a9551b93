import { DatabaseSync } from 'node:sqlite';
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, linkSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ensurePrivateDir, privateFileMode } from '../runtime/private-files.ts';
import { sqliteFile } from './database.ts';

/** Why a backup or a restore did nothing; `usage` is the caller's mistake, the rest a state to fix first. */
export class BackupRefused extends Error {
  override name = 'BackupRefused';
  readonly usage: boolean;
  constructor(message: string, usage = false) {
    super(message);
    this.usage = usage;
  }
}

/** What a copy holds, read back from the copy itself once it is on disk. */
export interface CopySummary {
  readonly file: string;
  readonly bytes: number;
  readonly merchants: number;
  readonly payments: number;
  readonly cards: number;
  /** When the newest payment in the copy was made (ms), if any. */
  readonly newestPaymentAt: number | undefined;
  readonly keyVersions: number;
}

/**
 * A consistent copy of the embedded store at `target`, taken while gateways run. `VACUUM INTO` reads
 * the store in one read transaction: in WAL mode that waits for no writer and stops none, and the copy
 * is the store as of one commit, never half of one (copying the database file while the gateway
 * writes can pair it with a WAL of another moment, or miss the commits the WAL holds). The copy is
 * written under a temporary name, flushed, checked and only then linked to `target`, so a backup cut
 * short by a crash or a full disk never leaves a file that looks whole.
 */
export function backupSqlite(dataDir: string, target: string): CopySummary {
  const source = sqliteFile(dataDir);
  if (!existsSync(source) || statSync(source).size === 0) throw new BackupRefused(`no store to back up: ${source} does not exist (is SWITCHYARD_DATA_DIR the gateway's?)`);
  const file = resolve(target);
  if (existsSync(file)) throw new BackupRefused(`${file} already exists; a backup never overwrites a file`, true);
  if (!existsSync(dirname(file))) throw new BackupRefused(`the folder ${dirname(file)} does not exist`, true);
  const temporary = `${file}.${process.pid}.tmp`;
  // Made empty and owner-only first (VACUUM INTO writes into an empty file): the copy holds card
  // ciphertexts and sealed keys, never readable by another user even while it is written.
  closeSync(openSync(temporary, 'wx', privateFileMode));
  const db = new DatabaseSync(source);
  try {
    // A checkpoint or a write holding the lock when the copy starts: wait for it, as the gateway's own connection does.
    db.exec('PRAGMA busy_timeout = 5000');
    db.prepare('VACUUM INTO ?').run(temporary);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  } finally {
    db.close();
  }
  try {
    chmodSync(temporary, privateFileMode);
    flush(temporary);
    const summary = checkedCopy(temporary, file);
    linkSync(temporary, file);
    flush(dirname(file));
    return summary;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * Puts a backup in place as the store of `dataDir`, which must hold none (nor a WAL, which SQLite
 * would replay over the copy: another store's commits written into this one). Before anything is in
 * place the copy is checked whole and `masterKey` is checked against its card keys, read without
 * writing to the copy: a store restored under a key that does not open it could never be started.
 * Migrations are left to the gateway's next start, as for any store of an older version.
 */
export function restoreSqlite(backup: string, dataDir: string, masterKey: Buffer | undefined,
  notOpened: (masterKey: Buffer, versions: { version: number; sealedKey: string }[]) => number | undefined): CopySummary {
  const from = resolve(backup);
  if (!existsSync(from)) throw new BackupRefused(`${from} does not exist`, true);
  const target = sqliteFile(dataDir);
  const present = [target, `${target}-wal`, `${target}-shm`, `${target}-journal`].filter((f) => existsSync(f));
  if (present.length > 0) {
    throw new BackupRefused(`${dataDir} already holds a store (${present.map((f) => f.slice(dirname(target).length + 1)).join(', ')}): stop every gateway on it and move those files aside first`);
  }
  ensurePrivateDir(dataDir);
  const temporary = `${target}.${process.pid}.restore.tmp`;
  closeSync(openSync(temporary, 'wx', privateFileMode));
  copyFileSync(from, temporary);
  try {
    chmodSync(temporary, privateFileMode);
    flush(temporary);
    const summary = checkedCopy(temporary, target);
    const db = new DatabaseSync(temporary, { readOnly: true });
    let versions: { version: number; sealedKey: string }[];
    try {
      versions = tableExists(db, 'key_versions')
        ? db.prepare('select version, sealed_key as sealedKey from key_versions order by version').all() as { version: number; sealedKey: string }[]
        : [];
    } finally {
      db.close();
    }
    if (versions.length > 0) {
      if (!masterKey) {
        throw new BackupRefused('no master key: the copy\'s card keys are sealed under the master key of the store it was taken from. '
          + 'Set SWITCHYARD_MASTER_KEY to it, or put its master.key file in the data folder, then restore');
      }
      const version = notOpened(masterKey, versions);
      if (version !== undefined) {
        throw new BackupRefused(`the master key given does not open this copy's card keys (key version ${version} was sealed under another master key); `
          + 'restore with the master key of the store the copy was taken from');
      }
    }
    // `link` refuses a name taken meanwhile: a gateway started on the folder while this ran keeps its own store.
    try {
      linkSync(temporary, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      throw new BackupRefused(`${target} was made while the copy was checked (a gateway started on the folder?): nothing was put in place`);
    }
    flush(dataDir);
    return summary;
  } finally {
    rmSync(temporary, { force: true });
  }
}

function flush(path: string): void {
  const fd = openSync(path, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

function tableExists(db: DatabaseSync, name: string): boolean {
  return db.prepare("select 1 from sqlite_master where type = 'table' and name = ?").get(name) !== undefined;
}

/** Reads the copy back: refused unless SQLite finds it whole; what it holds, for the operator to compare. */
function checkedCopy(path: string, shownAs: string): CopySummary {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const problems = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
    if (problems.length !== 1 || problems[0]!.integrity_check !== 'ok') {
      throw new BackupRefused(`the copy is damaged: ${problems.slice(0, 3).map((p) => p.integrity_check).join('; ')}`);
    }
    if (!tableExists(db, 'payments')) throw new BackupRefused(`${shownAs} is not a Switchyard store (it has no payments table)`, true);
    const count = (table: string) => tableExists(db, table) ? Number((db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n) : 0;
    const newest = (db.prepare('select max(created_at) as at from payments').get() as { at: number | null }).at;
    return {
      file: shownAs, bytes: statSync(path).size,
      merchants: count('merchants'), payments: count('payments'), cards: count('cards'), keyVersions: count('key_versions'),
      newestPaymentAt: newest ?? undefined,
    };
  } finally {
    db.close();
  }
}
