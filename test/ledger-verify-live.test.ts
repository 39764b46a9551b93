/**
 * `ledger verify` is the operator's check that the books are sound; run while the gateway takes
 * payments on the same store (the normal case, from cron or monitoring), it reads one snapshot and
 * never reports a broken invariant that is not there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { opp, tempDir, testCard } from './support/harness.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

const cliAsync = (dataDir: string, ...args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
  const child = spawn(process.execPath, ['src/cli/main.ts', ...args], { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir } });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  child.on('exit', (status) => resolve({ status, stdout, stderr }));
});

test('ledger verify does not report the books broken while the gateway takes payments', async () => {
  const dataDir = tempDir();
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Busy Shop', '--json').stdout);
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    let stop = false;
    const gw = { url: proc.url, merchant: m };
    const load = async () => {
      while (!stop) {
        await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' }).catch(() => undefined);
      }
    };
    const workers = Array.from({ length: 6 }, load);
    try {
      // Some history first, so that reading the postings takes a moment.
      await new Promise((r) => setTimeout(r, 4000));
      const results = [];
      for (let i = 0; i < 12; i++) results.push(await cliAsync(dataDir, 'ledger', 'verify', '--json'));
      stop = true;
      await Promise.all(workers);
      await proc.stop();
      const quiet = cli(dataDir, 'ledger', 'verify');
      assert.equal(quiet.status, 0, `the books are sound once quiet: ${quiet.stderr}`);
      const broken = results.filter((r) => r.status !== 0);
      assert.deepEqual(broken.map((r) => r.stdout.trim() || r.stderr.trim()), [], 'every verify of sound books says ok');
    } finally {
      stop = true;
      await Promise.all(workers);
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
