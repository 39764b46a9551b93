/**
 * The README: `data/demo-merchant.env` "also points the CLI at this store, so `npm run cli` after
 * sourcing it works from any folder". On PostgreSQL the file named no database: after sourcing it
 * the CLI opened a new, empty SQLite store in ./data and answered from it with exit 0 (no merchants;
 * one created there served by no gateway). It names the database URL now (without a password) and
 * the data folder; and that folder is owner-only on PostgreSQL too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { postgresAvailable, tempDir } from './support/harness.ts';
import { startGatewayProcess } from './support/process.ts';
import { processStore } from './support/stores.ts';

const skip = (await postgresAvailable()) ? false : 'PostgreSQL is not reachable';

test('after sourcing demo-merchant.env of a PostgreSQL gateway, the CLI works on that gateway\'s store from any folder', { skip }, async () => {
  const store = await processStore('postgres');
  const elsewhere = tempDir();
  try {
    // A password as the driver also takes it, a parameter of the URL (trust authentication ignores it).
    const url = new URL(store.env.DATABASE_URL!);
    url.password = 'UserPassw0rd';
    url.searchParams.set('password', 'S3cretParam');
    const gw = await startGatewayProcess({ ...store.env, DATABASE_URL: url.toString(), SWITCHYARD_MASTER_KEY: 'ab'.repeat(32), SWITCHYARD_ADMIN_TOKEN: 'an-operator-token-of-thirty-characters' });
    await gw.stop();
    assert.doesNotMatch(readFileSync(join(store.dataDir, 'demo-merchant.env'), 'utf8'), /UserPassw0rd|S3cretParam/, 'no password is written');
    assert.equal(statSync(store.dataDir).mode & 0o777, 0o700, 'the data folder is owner-only');
    const file = join(store.dataDir, 'demo-merchant.env');
    const merchantId = /^export MERCHANT_ID=(.*)$/m.exec(readFileSync(file, 'utf8'))![1]!;
    const env = { ...process.env };
    delete env.DATABASE_URL; delete env.SWITCHYARD_DATA_DIR; delete env.SWITCHYARD_MASTER_KEY;
    const r = spawnSync('bash', ['-c', `source '${file}' && '${process.execPath}' '${resolve('src/cli/main.ts')}' merchants list --json`], { cwd: elsewhere, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(join(elsewhere, 'data')), 'no new SQLite store was made in ./data');
    assert.deepEqual((JSON.parse(r.stdout) as { merchantId: string }[]).map((m) => m.merchantId), [merchantId]);
  } finally {
    rmSync(elsewhere, { recursive: true, force: true });
    await store.drop();
  }
});
