import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { opp, pay, postgresAvailable, startGateway, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** Every entry of the data folder, and the folder itself, is owner-only. */
function assertOwnerOnly(dataDir: string, expected: readonly string[]): void {
  assert.equal(modeOf(dataDir).toString(8), '700', 'the data folder is owner-only');
  const files = readdirSync(dataDir);
  for (const name of expected) assert.ok(files.includes(name), `${name} is in the data folder (found ${files.join(', ')})`);
  for (const name of files) assert.equal(modeOf(join(dataDir, name)).toString(8), '600', `${name} is owner-only`);
}

test('embedded store under a permissive umask: the data folder is 0700, the database, its WAL and SHM, the key, the token and the demo credentials 0600', async () => {
  const parent = tempDir();
  const dataDir = join(parent, 'data');
  // A folder and a token file another tool left world-readable are tightened too.
  mkdirSync(dataDir);
  chmodSync(dataDir, 0o777);
  writeFileSync(join(dataDir, 'admin.token'), 'left-by-an-older-version\n', { mode: 0o644 });
  chmodSync(join(dataDir, 'admin.token'), 0o644);
  const previous = process.umask(0);
  try {
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0' });
    try {
      // A payment, so the WAL holds pages and the shared-memory index exists.
      const r = await pay({ url: proc.url, merchant: demoCredentials(dataDir) } as never);
      assert.equal(r.body.result.code, '000.100.110');
      assertOwnerOnly(dataDir, ['switchyard.sqlite', 'switchyard.sqlite-wal', 'switchyard.sqlite-shm', 'master.key', 'admin.token', 'demo-merchant.env']);
    } finally {
      await proc.stop('SIGTERM');
    }
    assertOwnerOnly(dataDir, ['switchyard.sqlite', 'master.key', 'admin.token', 'demo-merchant.env']);
  } finally {
    process.umask(previous);
    rmSync(parent, { recursive: true, force: true });
  }
});

test('PostgreSQL store under a permissive umask: the key and the token in the data folder are owner-only', async (t) => {
  if (!(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
  const parent = tempDir();
  const dataDir = join(parent, 'nested', 'data');
  const previous = process.umask(0);
  try {
    const gw = await startGateway({ store: 'postgres', env: { SWITCHYARD_DATA_DIR: dataDir } });
    try {
      const r = await opp(gw, 'POST', '/v1/payments', { amount: '1.00', currency: 'EUR', paymentType: 'DB', ...testCard });
      assert.equal(r.body.result.code, '000.100.110');
      assertOwnerOnly(dataDir, ['master.key', 'admin.token']);
    } finally {
      await gw.close();
    }
  } finally {
    process.umask(previous);
    rmSync(parent, { recursive: true, force: true });
  }
});
