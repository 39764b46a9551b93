import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { ensurePrivateDir, privateFileMode, writeDurablePrivateFile } from '../runtime/private-files.ts';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * The master key: from SWITCHYARD_MASTER_KEY, else a file generated into the data folder on first
 * start (mode 0600). It never encrypts card data itself; it seals the versioned key-encrypting keys.
 */
export function loadMasterKey(opts: { configured: string | undefined; dataDir: string }): Buffer {
  if (opts.configured) return Buffer.from(opts.configured, 'hex');
  const file = join(opts.dataDir, 'master.key');
  if (existsSync(file)) {
    chmodSync(file, privateFileMode);
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file} does not hold a 64-hex-character key`);
    return Buffer.from(hex, 'hex');
  }
  ensurePrivateDir(opts.dataDir);
  const key = randomBytes(32);
  writeDurablePrivateFile(file, key.toString('hex') + '\n');
  return key;
}
