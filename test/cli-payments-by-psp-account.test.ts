/**
 * `payments list --account PSP_ACCOUNT_ID` (and the admin API's `account` filter) takes a PSP
 * account's id, which no command managing PSP accounts printed: they showed the account by its name
 * only, and an operator who passed the name got an empty list with exit 0, as if the account had
 * taken no payments. `psp-accounts put` and `list` (and the admin API) show the id now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

process.env.SWITCHYARD_MASTER_KEY = 'cd'.repeat(32);

test('the PSP account an operator can name to `payments list --account` is one the CLI shows', async () => {
  const dataDir = tempDir();
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0' });
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Acme Shop', '--json').stdout);
    const put = cli(dataDir, 'psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'psp-a', '--settings', '{}');
    assert.equal(put.status, 0, put.stderr);
    assert.equal(cli(dataDir, 'workflows', 'set', '--merchant', m.merchantId, '--accounts', 'psp-a').status, 0);
    const r = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(r.body.result.code, '000.100.110');

    const all = JSON.parse(cli(dataDir, 'payments', 'list', '--json').stdout).payments;
    assert.equal(all.length, 1);
    const accountId: string = all[0].pspAccountId;
    assert.equal(all[0].pspAccountName, 'psp-a');

    // What the account commands print: the id `--account` needs, or else --account takes the name.
    const listed = cli(dataDir, 'psp-accounts', 'list', '--merchant', m.merchantId);
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(JSON.parse(put.stdout).id, accountId, `psp-accounts put shows the id: ${put.stdout}`);
    const shown = (JSON.parse(listed.stdout) as { id: string; name: string }[]).find((a) => a.name === 'psp-a');
    assert.equal(shown?.id, accountId, `psp-accounts list shows the id: ${listed.stdout}`);
    const byId = cli(dataDir, 'payments', 'list', '--account', shown!.id, '--json');
    assert.equal(JSON.parse(byId.stdout).payments.length, 1, 'the id shown finds the account\'s payment');
  } finally {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
