import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The operator token for /admin/api: SWITCHYARD_ADMIN_TOKEN, else `admin.token` in the data folder,
 * generated (mode 0600) on first start and printed once, like the demo merchant's credentials.
 */
export function loadAdminToken(opts: { configured: string | undefined; dataDir: string }): { token: string; created: boolean } {
  if (opts.configured) return { token: opts.configured, created: false };
  const file = join(opts.dataDir, 'admin.token');
  if (existsSync(file)) return { token: readFileSync(file, 'utf8').trim(), created: false };
  mkdirSync(opts.dataDir, { recursive: true });
  const token = `sya_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  return { token, created: true };
}

/** Constant-time comparison of a presented token with the configured one. */
export function tokenMatches(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
