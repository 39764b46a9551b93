import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { ensurePrivateDir, privateFileMode, writeDurablePrivateFile } from '../runtime/private-files.ts';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The master key, and what makes it last: a generated key is written only once something is sealed under it. */
export interface MasterKey {
  readonly key: Buffer;
  /** Generated on this start: neither configured (SWITCHYARD_MASTER_KEY) nor kept in the data folder yet. */
  readonly fresh: boolean;
  /**
   * Writes a key generated on this start to the data folder, durably; nothing for a configured or
   * stored key. The vault calls it before it seals its first key version: a start that finds the
   * store's keys sealed under another key (a missing SWITCHYARD_MASTER_KEY, say) leaves no
   * master.key behind that opens nothing and would be taken for the store's own.
   */
  keep(): void;
  /**
   * Takes back what `keep` wrote on this start: another node sealed the store's first key version
   * under its own master key at the same moment, so nothing is sealed under this one, and a file
   * left behind would be taken for the store's key on every later start.
   */
  discard(): void;
}

/**
 * The master key: from SWITCHYARD_MASTER_KEY, else a file generated into the data folder on first
 * start (mode 0600). It never encrypts card data itself; it seals the versioned key-encrypting keys.
 */
export function loadMasterKey(opts: { configured: string | undefined; dataDir: string }): MasterKey {
  const kept = (key: Buffer): MasterKey => ({ key, fresh: false, keep() {}, discard() {} });
  if (opts.configured) return kept(Buffer.from(opts.configured, 'hex'));
  const file = join(opts.dataDir, 'master.key');
  if (existsSync(file)) {
    chmodSync(file, privateFileMode);
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file} does not hold a 64-hex-character key`);
    return kept(Buffer.from(hex, 'hex'));
  }
  const key = randomBytes(32);
  let written = false;
  return {
    key,
    fresh: true,
    keep() {
      if (written) return;
      ensurePrivateDir(opts.dataDir);
      writeDurablePrivateFile(file, key.toString('hex') + '\n');
      written = true;
    },
    discard() {
      if (!written) return;
      rmSync(file, { force: true });
      written = false;
    },
  };
}
