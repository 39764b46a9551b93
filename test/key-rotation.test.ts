import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStorage } from '../src/storage/database.ts';
import { createVaultStore } from '../src/vault/kysely-store.ts';
import { opp, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';

const run = promisify(execFile);

async function cli(env: Record<string, string>, ...args: string[]) {
  const { stdout } = await run(process.execPath, ['src/cli/main.ts', ...args], { env: { ...process.env, ...env } });
  return JSON.parse(stdout);
}

test('keys rotate under traffic: payments keep succeeding, every data key is re-wrapped, old cards stay readable', async () => {
  const dataDir = tempDir();
  const env = { SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_KEY_REFRESH_MS: '300' };
  const proc = await startGatewayProcess(env);
  try {
    const gw = { url: proc.url, merchant: demoCredentials(dataDir) };
    const pay = (params: Record<string, string>) => opp(gw, 'POST', '/v1/payments', { amount: '10.00', currency: 'EUR', ...testCard, ...params });
    // Cards stored before the rotation, under key version 1.
    const before = await Promise.all(Array.from({ length: 20 }, () => pay({ paymentType: 'DB' })));
    assert.ok(before.every((r) => r.body.result.code === '000.100.110'));
    assert.deepEqual(await cli(env, 'keys', 'status', '--json'), { current: 1, versions: [{ version: 1, cards: 20 }] });

    // Traffic that both stores new cards and decrypts old ones (a rebill reads the stored card).
    const results: string[] = [];
    let stop = false;
    const traffic = Array.from({ length: 4 }, async (_, worker) => {
      for (let i = 0; !stop; i++) {
        const r = i % 2 === 0
          ? await pay({ paymentType: 'DB' })
          : await opp(gw, 'POST', `/v1/payments/${before[(worker * 5 + i) % before.length]!.body.id}`, { paymentType: 'RB', amount: '1.00', currency: 'EUR' });
        results.push(r.body.result.code);
      }
    });
    const rotated = await cli(env, 'keys', 'rotate', '--json');
    stop = true;
    await Promise.all(traffic);

    assert.equal(rotated.version, 2);
    assert.ok(rotated.rewrapped >= 20, `re-wrapped ${rotated.rewrapped}`);
    assert.equal(rotated.remaining, 0);
    assert.ok(results.length >= 20, `only ${results.length} requests ran during the rotation`);
    assert.deepEqual([...new Set(results)], ['000.100.110'], `every payment during the rotation succeeded\n${proc.output().split('\n').filter((l) => /"level":50/.test(l)).slice(0, 3).join('\n')}`);

    const status = await cli(env, 'keys', 'status', '--json');
    assert.equal(status.current, 2);
    assert.equal(status.versions.find((v: any) => v.version === 1).cards, 0);
    // Records from before the rotation are still readable by the running server…
    const rb = await opp(gw, 'POST', `/v1/payments/${before[0]!.body.id}`, { paymentType: 'RB', amount: '2.00', currency: 'EUR' });
    assert.equal(rb.body.result.code, '000.100.110');
    // …and new cards go to the new version.
    await pay({ paymentType: 'DB' });
    const after = await cli(env, 'keys', 'status', '--json');
    assert.equal(after.versions.find((v: any) => v.version === 1).cards, 0);
  } finally {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('key commands on a store with no key ring yet write nothing: status says so, rotate is refused; no master.key is made up for a server that may be given its own', async () => {
  const dir = tempDir('switchyard-no-ring-');
  try {
    const env = { ...process.env, SWITCHYARD_DATA_DIR: dir, DATABASE_URL: '', SWITCHYARD_MASTER_KEY: '' };
    const status = await run(process.execPath, ['scripts/launch.mjs', 'src/cli/main.ts', 'keys', 'status', '--json'], { env, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(status.stdout), { current: null, versions: [] });
    await assert.rejects(run(process.execPath, ['scripts/launch.mjs', 'src/cli/main.ts', 'keys', 'rotate'], { env, encoding: 'utf8' }),
      (err: { code?: number; stderr?: string }) => err.code === 1 && /no key ring yet/.test(err.stderr ?? ''));
    assert.equal(existsSync(join(dir, 'master.key')), false, 'a master key was written');
    const storage = await openStorage({ kind: 'sqlite', dataDir: dir });
    try {
      assert.deepEqual(await createVaultStore(storage.uow).keyVersions(), []);
    } finally {
      await storage.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
