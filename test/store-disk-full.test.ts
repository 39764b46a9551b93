/**
 * The embedded store's disk fills up under a serving gateway (a tmpfs of 8 MB, filled; skipped where
 * mounting is not permitted). Nothing is acknowledged; the merchant is told what PostgreSQL's full
 * disk (class 53) tells them: 503, 900.100.100 with Retry-After, the store unavailable for now. It
 * answered 500 999.999.999, an internal error, and /ready said ready. Once space is freed payments
 * go on without a restart and the books verify.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pay } from './support/harness.ts';
import { demoCredentials, startGatewayProcess, runCli, type GatewayProcess } from './support/process.ts';

test('a full disk under the embedded store: payments refused 503 900.100.100 with Retry-After, none acknowledged, /ready not ready; they resume once space is freed', async (t) => {
  const mnt = join('/tmp', `switchyard-disk-full-${process.pid}`);
  mkdirSync(mnt, { recursive: true });
  try { execSync(`mount -t tmpfs -o size=8m tmpfs ${mnt}`, { stdio: 'ignore' }); } catch { rmSync(mnt, { recursive: true, force: true }); t.skip('mounting a tmpfs is not permitted here'); return; }
  const dataDir = join(mnt, 'data');
  let proc: GatewayProcess | undefined;
  try {
    proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0' });
    const gw = { url: proc.url, merchant: demoCredentials(dataDir, proc.output()) };
    assert.equal((await pay(gw)).body.result.code, '000.100.110');
    assert.equal((await fetch(`${proc.url}/ready`)).status, 200);
    try { execSync(`dd if=/dev/zero of=${join(mnt, 'fill')} bs=64k`, { stdio: 'ignore' }); } catch { /* ENOSPC: full */ }
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => pay(gw, { merchantTransactionId: `full-${i}` })));
    for (const r of answers) assert.ok(!String(r.body.result?.code).startsWith('000.'), `nothing is acknowledged on a full disk: ${JSON.stringify(r.body)}`);
    const r = answers[0]!;
    assert.equal(r.status, 503, `a full disk is the store being unavailable, not an internal error: ${r.status} ${JSON.stringify(r.body.result)}`);
    assert.equal(r.body.result.code, '900.100.100');
    assert.equal(r.headers.get('retry-after'), '1');
    const ready = await fetch(`${proc.url}/ready`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { checks: Record<string, string> }).checks.disk, 'failing');
    rmSync(join(mnt, 'fill'));
    assert.equal((await pay(gw)).body.result.code, '000.100.110', 'payments resume without a restart');
    assert.equal((await fetch(`${proc.url}/ready`)).status, 200);
    await proc.stop();
    const v = runCli(dataDir, 'ledger', 'verify');
    assert.equal(v.status, 0, v.stdout + v.stderr);
  } finally {
    await proc?.stop('SIGKILL').catch(() => {});
    execSync(`umount -l ${mnt}`);
    rmSync(mnt, { recursive: true, force: true });
  }
});
