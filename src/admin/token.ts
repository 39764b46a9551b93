import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The operator's admin API token: SWITCHYARD_ADMIN_TOKEN, else `admin.token` generated into the data folder (mode 0600). */
export function loadAdminToken(opts: { configured: string | undefined; dataDir: string }): string {
  if (opts.configured) return opts.configured;
  const file = join(opts.dataDir, 'admin.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(opts.dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return token;
}

/** Constant-time comparison of a presented token with the configured one (as digests: no length leak). */
export function tokenMatches(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
