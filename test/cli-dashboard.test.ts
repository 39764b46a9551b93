import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { opp, tempDir, testCard } from './support/harness.ts';
import { adminHeaders, runCli as cli, startGatewayProcess } from './support/process.ts';

const withStdin = (dataDir: string, input: string, ...args: string[]) =>
  spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir }, encoding: 'utf8', input });

test('users add reads the password from stdin; payments list|show answer what the admin API and the dashboard answer', async () => {
  const dataDir = tempDir();
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'CLI Shop', '--json').stdout);
    assert.notEqual(cli(dataDir, 'users', 'add', '--email', 'a@example.com', '--role', 'admin').status, 0, 'no password on the command line');
    const added = withStdin(dataDir, 'a long passphrase\n', 'users', 'add', '--email', 'a@example.com', '--role', 'admin', '--password-stdin', '--json');
    assert.equal(added.status, 0, added.stderr);
    assert.equal(JSON.parse(added.stdout).role, 'admin');
    assert.ok(!added.stdout.includes('passphrase'));

    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const ids: string[] = [];
      for (const [ref, amount] of [['cli-1', '10.00'], ['cli-2', '20.00'], ['cli-3', '30.00']] as const) {
        const r = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount, currency: 'EUR', paymentType: 'PA', merchantTransactionId: ref });
        ids.push(r.body.id);
      }
      const listed = cli(dataDir, 'payments', 'list', '--currency', 'EUR', '--min', '15', '--json');
      assert.equal(listed.status, 0, listed.stderr);
      const body = JSON.parse(listed.stdout);
      assert.deepEqual(body.payments.map((p: any) => [p.reference, p.amount, p.status]), [['cli-3', '30.00', 'authorized'], ['cli-2', '20.00', 'authorized']]);
      const api = await (await fetch(`${proc.url}/admin/api/payments?currency=EUR&min=15`, { headers: adminHeaders(dataDir) })).json();
      assert.deepEqual(api, body);
      // An order number that passes the Luhn check is stored masked; an operator finds it as the merchant typed it.
      const order = '4242424242424242';
      const masked = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '5.00', currency: 'EUR', paymentType: 'PA', merchantTransactionId: order });
      assert.notEqual(masked.body.merchantTransactionId, order, 'kept masked');
      const found = cli(dataDir, 'payments', 'list', '--q', order, '--json');
      assert.equal(found.status, 0, found.stderr);
      assert.deepEqual(JSON.parse(found.stdout).payments.map((p: any) => p.id), [masked.body.id]);
      const viaApi = await (await fetch(`${proc.url}/admin/api/payments?q=${order}`, { headers: adminHeaders(dataDir) })).json() as { payments: { id: string }[] };
      assert.deepEqual(viaApi.payments.map((p: any) => p.id), [masked.body.id]);
      const shown = JSON.parse(cli(dataDir, 'payments', 'show', ids[0]!, '--json').stdout);
      assert.equal(shown.operations[0].kind, 'authorize');
      assert.equal(shown.operations[0].attempts[0].status, 'succeeded');
      assert.ok(shown.postings.length > 0);
      // The CLI's user signs in to the dashboard of the gateway on the same folder.
      const form = await fetch(`${proc.url}/dashboard/sign-in`);
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
      const signIn = await fetch(`${proc.url}/dashboard/sign-in`, {
        method: 'POST', redirect: 'manual', body: new URLSearchParams({ _csrf: token, email: 'a@example.com', password: 'a long passphrase', next: '/dashboard/payments' }),
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.headers.getSetCookie()[0]!.split(';')[0]!, origin: proc.url },
      });
      assert.equal(signIn.status, 303);
      assert.equal(signIn.headers.get('location'), '/dashboard/payments');
    } finally {
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
