import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { ensurePrivateDir, privateFileMode, writePrivateFile } from '../runtime/private-files.ts';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** The operator's admin API token: SWITCHYARD_ADMIN_TOKEN, else `admin.token` generated into the data folder (mode 0600). */
export function loadAdminToken(opts: { configured: string | undefined; dataDir: string }): string {
  if (opts.configured) return opts.configured;
  const file = join(opts.dataDir, 'admin.token');
  if (existsSync(file)) {
    chmodSync(file, privateFileMode);
    return readFileSync(file, 'utf8').trim();
  }
  ensurePrivateDir(opts.dataDir);
  const token = randomBytes(32).toString('base64url');
  writePrivateFile(file, token + '\n', 'wx');
  return token;
}
