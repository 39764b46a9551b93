import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
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
    const hex = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file} does not hold a 64-hex-character key`);
    return Buffer.from(hex, 'hex');
  }
  mkdirSync(opts.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}
