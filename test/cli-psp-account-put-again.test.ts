/**
 * `psp-accounts put` run again on an account with only what changes (its timeout, its credentials)
 * keeps the rest. It filled a missing --connector with the simulator and missing --settings with
 * nothing: an operator changing an acquirer account's timeout replaced it, with exit 0, by a
 * simulated acquirer that approves every card, its base URL, entity and access token gone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tempDir } from './support/harness.ts';

test('psp-accounts put with only --timeout-ms, or only --settings, keeps the account\'s connector, credentials and timeout', () => {
  const dataDir = tempDir();
  const env = { ...process.env, SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_MASTER_KEY: 'cd'.repeat(32) };
  const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env, encoding: 'utf8' });
  try {
    const m = JSON.parse(cli('merchants', 'create', '--name', 'Acme Shop', '--json').stdout);
    const settings = { baseUrl: 'https://eu-prod.acquirer.example', accessToken: 'abcdefghijklmnopqrstuvwxyzf3Q=', entityId: '8a8294174b7ecb28014b9699220015ca' };
    const put = cli('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'acquirer-eu', '--connector', 'opp', '--timeout-ms', '8000', '--settings', JSON.stringify(settings));
    assert.equal(put.status, 0, put.stderr);
    const account = () => JSON.parse(cli('psp-accounts', 'list', '--merchant', m.merchantId).stdout).find((a: { name: string }) => a.name === 'acquirer-eu');

    const retimed = cli('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'acquirer-eu', '--timeout-ms', '5000');
    assert.equal(retimed.status, 0, retimed.stderr);
    let a = account();
    assert.deepEqual([a.connector, a.settings.baseUrl, a.settings.entityId, a.settings.accessToken, a.timeoutMs], ['opp', settings.baseUrl, settings.entityId, '****f3Q=', 5000]);

    const moved = cli('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'acquirer-eu', '--settings', JSON.stringify({ ...settings, accessToken: 'zyxwvutsrqponmlkjihgfedcbaN7k=' }));
    assert.equal(moved.status, 0, moved.stderr);
    a = account();
    assert.deepEqual([a.connector, a.settings.accessToken, a.timeoutMs], ['opp', '****N7k=', 5000], 'new credentials, the same connector and timeout');

    // A timeout in the settings (their older form) is the one given; `default` clears it.
    assert.equal(cli('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'acquirer-eu', '--settings', JSON.stringify({ ...settings, accessToken: '****N7k=', timeoutMs: 3000 })).status, 0);
    assert.equal(account().timeoutMs, 3000);
    assert.equal(cli('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'acquirer-eu', '--timeout-ms', 'default').status, 0);
    a = account();
    assert.deepEqual([a.connector, a.settings.accessToken, a.timeoutMs], ['opp', '****N7k=', null]);

    // A new account still defaults to the simulator.
    assert.equal(cli('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'sim').status, 0);
    assert.equal(JSON.parse(cli('psp-accounts', 'list', '--merchant', m.merchantId).stdout).find((x: { name: string }) => x.name === 'sim').connector, 'simulator');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
