import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { opp, tempDir, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

// As an operator sets up a store from the CLI before the server's first start: with the master key
// the server will have (without one the CLI refuses to make the store's card keys; see
// cli-before-first-start.test.ts). The gateways these tests start inherit it.
process.env.SWITCHYARD_MASTER_KEY = 'cd'.repeat(32);

test('merchants create --json prints working credentials; list shows them; bad usage exits non-zero', async () => {
  const dataDir = tempDir();
  try {
    const created = cli(dataDir, 'merchants', 'create', '--name', 'Acme Shop', '--json');
    assert.equal(created.status, 0, created.stderr);
    const m = JSON.parse(created.stdout);
    assert.deepEqual(Object.keys(m).sort(), ['accessToken', 'apiKey', 'clientId', 'entityId', 'merchantId', 'password', 'userId', 'workspaceId']);
    assert.match(m.entityId, /^[0-9a-f]{32}$/);
    assert.match(m.userId, /^[0-9a-f]{32}$/);
    assert.match(m.password, /^[A-Za-z0-9_-]{16,}$/);
    const live = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Live Shop', '--live', '--json').stdout);

    const list = cli(dataDir, 'merchants', 'list', '--json');
    assert.equal(list.status, 0);
    const rows = JSON.parse(list.stdout);
    assert.deepEqual(rows.map((r: any) => [r.name, r.mode]), [['Acme Shop', 'test'], ['Live Shop', 'live']]);
    assert.ok(!list.stdout.includes(m.accessToken) && !list.stdout.includes(m.apiKey) && !list.stdout.includes(m.password), 'secrets are shown only once');

    assert.notEqual(cli(dataDir, 'merchants', 'create', '--json').status, 0);
    // A name is shown on every page and listing: a card number typed there, or a control character, is refused and nothing is created.
    for (const [name, why] of [['Shop 4111 1111 1111 1111', /--name holds what looks like a card number/], ['Shop\u001b[31m', /--name holds a control character/]] as const) {
      const refused = cli(dataDir, 'merchants', 'create', '--name', name);
      assert.equal(refused.status, 2, refused.stderr);
      assert.match(refused.stderr, why);
      assert.ok(!refused.stderr.includes('4111 1111 1111 1111'), 'the number is not repeated');
    }
    assert.notEqual(cli(dataDir, 'nonsense').status, 0);

    // A live merchant may not use a simulated PSP account.
    const sim = cli(dataDir, 'psp-accounts', 'put', '--merchant', live.merchantId, '--name', 'sim');
    assert.notEqual(sim.status, 0);
    assert.match(sim.stderr, /live merchant.*real PSP connector/);

    // The server started on the same folder accepts the CLI's credentials.
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const r = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(r.body.result.code, '000.100.110');
      // With no real PSP account, a live payment reaches no simulator: refused.
      const refusedLive = await opp({ url: proc.url, merchant: live }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(refusedLive.body.result.code, '900.100.100');
      // A real (OPP-family) account, here the test merchant of this same gateway, takes it; its token is shown back masked only.
      const settings = JSON.stringify({ baseUrl: proc.url, accessToken: m.accessToken, entityId: m.entityId });
      const put = cli(dataDir, 'psp-accounts', 'put', '--merchant', live.merchantId, '--name', 'acq', '--connector', 'opp', '--settings', settings, '--timeout-ms', '5000');
      assert.equal(put.status, 0, put.stderr);
      assert.equal(JSON.parse(put.stdout).settings.accessToken, `****${m.accessToken.slice(-4)}`);
      assert.equal(JSON.parse(put.stdout).timeoutMs, 5000);
      const listed = cli(dataDir, 'psp-accounts', 'list', '--merchant', live.merchantId);
      assert.ok(!put.stdout.includes(m.accessToken) && !listed.stdout.includes(m.accessToken), 'the token is never shown back');
      assert.equal(cli(dataDir, 'workflows', 'set', '--merchant', live.merchantId, '--accounts', 'acq').status, 0);
      const l = await opp({ url: proc.url, merchant: live }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(l.body.result.code, '000.000.000');
      assert.ok(!proc.output().includes(m.accessToken), 'nor logged');
      // The printed pair is accepted in place of the bearer token.
      const legacy = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', {
        ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB', 'authentication.userId': m.userId, 'authentication.password': m.password,
      }, null);
      assert.equal(legacy.body.result.code, '000.100.110');
    } finally {
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('sourcing demo-merchant.env points the CLI at the store the gateway was started on, from any folder', async () => {
  const parent = tempDir();
  // A folder of the operator's choosing, with a quote and a space a shell must be given as they are.
  const dataDir = join(parent, "shop's data");
  const elsewhere = join(parent, 'elsewhere');
  mkdirSync(elsewhere);
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
  try {
    const env = { ...process.env };
    delete env.SWITCHYARD_DATA_DIR;
    delete env.DATABASE_URL;
    const listed = spawnSync('bash', ['-c', 'source "$1" && "$2" "$3" merchants list --json', 'bash',
      join(dataDir, 'demo-merchant.env'), process.execPath, join(import.meta.dirname, '..', 'src/cli/main.ts')],
    { cwd: elsewhere, env, encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((m: { name: string }) => m.name), ['Demo Merchant']);
    assert.deepEqual(readdirSync(elsewhere), [], 'no store was made where the shell happened to be');
  } finally {
    await proc.stop('SIGTERM');
    rmSync(parent, { recursive: true, force: true });
  }
});

test('psp-accounts put|list and workflows show|set configure the cascade a gateway on the same folder uses', async () => {
  const dataDir = tempDir();
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Cascade Shop', '--json').stdout);
    const ok = (...args: string[]) => {
      const r = cli(dataDir, ...args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout);
    };
    const refused = (pattern: RegExp, ...args: string[]) => {
      const r = cli(dataDir, ...args);
      assert.notEqual(r.status, 0, `${args.join(' ')} should fail`);
      assert.match(r.stderr, pattern, args.join(' '));
    };

    assert.deepEqual(ok('workflows', 'show', '--merchant', m.merchantId), { accounts: [], moveOn: ['soft', 'error'], notifyPending: false });
    assert.deepEqual(ok('psp-accounts', 'list', '--merchant', m.merchantId), []);
    const putA = ok('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'psp-a', '--behaviour', '{"declines":[{"cardSuffixes":["1111"],"category":"soft"}]}');
    assert.match(putA.id, /^[0-9a-f]{32}$/, 'the id payment searches take (--account)');
    assert.deepEqual(putA,
      {
        id: putA.id, name: 'psp-a', connector: 'simulator',
        settings: { latencyMs: 0, declines: [{ cardSuffixes: ['1111'], category: 'soft' }], timeouts: [] }, timeoutMs: null, notificationUrl: null,
        behaviour: { latencyMs: 0, declines: [{ cardSuffixes: ['1111'], category: 'soft' }], timeouts: [] },
      });
    ok('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'psp-b');
    // put again replaces the behaviour of the same name.
    ok('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'psp-b', '--behaviour', '{"latencyMs":5}');
    assert.deepEqual(ok('psp-accounts', 'list', '--merchant', m.merchantId).map((a: any) => [a.name, a.behaviour.latencyMs]), [['psp-a', 0], ['psp-b', 5]]);
    // Settings (credentials, for a real PSP) need not be on the command line, where ps and the shell's history show them.
    const other = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Settings Shop', '--json').stdout);
    const file = join(dataDir, 'psp-c.json');
    writeFileSync(file, '{"latencyMs":7}\n', { mode: 0o600 });
    assert.equal(ok('psp-accounts', 'put', '--merchant', other.merchantId, '--name', 'psp-c', '--settings', `@${file}`).settings.latencyMs, 7);
    const piped = spawnSync(process.execPath, ['src/cli/main.ts', 'psp-accounts', 'put', '--merchant', other.merchantId, '--name', 'psp-c', '--settings', '-'],
      { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir }, encoding: 'utf8', input: '{"latencyMs":9}' });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal(JSON.parse(piped.stdout).settings.latencyMs, 9);
    refused(/--settings @.*could not be read/, 'psp-accounts', 'put', '--merchant', other.merchantId, '--name', 'psp-c', '--settings', `@${join(dataDir, 'missing.json')}`);
    assert.equal(ok('psp-accounts', 'list', '--merchant', other.merchantId).find((a: any) => a.name === 'psp-c').settings.latencyMs, 9, 'a refused put changes nothing');
    assert.deepEqual(ok('workflows', 'set', '--merchant', m.merchantId, '--accounts', 'psp-a,psp-b', '--move-on', 'soft', '--notify-pending', 'true'),
      { accounts: ['psp-a', 'psp-b'], moveOn: ['soft'], notifyPending: true });
    // Fields left out keep their values.
    assert.deepEqual(ok('workflows', 'set', '--merchant', m.merchantId, '--move-on', 'soft,error'), { accounts: ['psp-a', 'psp-b'], moveOn: ['soft', 'error'], notifyPending: true });
    assert.deepEqual(ok('workflows', 'show', '--merchant', m.merchantId), { accounts: ['psp-a', 'psp-b'], moveOn: ['soft', 'error'], notifyPending: true });

    // Bad input is refused by name and changes nothing.
    refused(/--merchant is required/, 'psp-accounts', 'list');
    refused(/no merchant/, 'workflows', 'show', '--merchant', 'f'.repeat(32));
    refused(/--name is required/, 'psp-accounts', 'put', '--merchant', m.merchantId);
    refused(/--settings must be JSON/, 'psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'psp-c', '--behaviour', '{nope');
    refused(/latencyMs/, 'psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'psp-c', '--behaviour', '{"latencyMs":-1}');
    refused(/cardSuffixes/, 'psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'psp-c', '--behaviour', '{"declines":[{"cardSuffixes":["4111111111111111"],"category":"soft"}]}');
    refused(/account name/, 'psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'bad name!');
    refused(/unknown PSP account\(s\): psp-x/, 'workflows', 'set', '--merchant', m.merchantId, '--accounts', 'psp-a,psp-x');
    refused(/moveOn/, 'workflows', 'set', '--merchant', m.merchantId, '--move-on', 'sometimes');
    refused(/notifyPending/, 'workflows', 'set', '--merchant', m.merchantId, '--notify-pending', 'maybe');
    refused(/usage/, 'workflows', 'delete', '--merchant', m.merchantId);
    assert.deepEqual(ok('psp-accounts', 'list', '--merchant', m.merchantId).map((a: any) => a.name), ['psp-a', 'psp-b']);
    assert.deepEqual(ok('workflows', 'show', '--merchant', m.merchantId), { accounts: ['psp-a', 'psp-b'], moveOn: ['soft', 'error'], notifyPending: true });

    // An Adyen account shows where Adyen must post its webhooks: the path, as this folder's
    // configuration names no public URL (under SWITCHYARD_PUBLIC_URL, the whole URL).
    const adyenSettings = '{"apiKey":"AQE-test-key-0001","merchantAccount":"ShopECOM","hmacKey":"44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"}';
    const adyen = ok('psp-accounts', 'put', '--merchant', m.merchantId, '--name', 'adyen-eu', '--connector', 'adyen', '--settings', adyenSettings);
    assert.equal(adyen.notificationUrl, `/psp-notifications/${m.merchantId}/adyen-eu`);
    const withUrl = spawnSync(process.execPath, ['src/cli/main.ts', 'psp-accounts', 'list', '--merchant', m.merchantId],
      { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_PUBLIC_URL: 'https://pay.example.com' }, encoding: 'utf8' });
    assert.equal(withUrl.status, 0, withUrl.stderr);
    assert.deepEqual(JSON.parse(withUrl.stdout).map((a: any) => [a.name, a.notificationUrl]),
      [['adyen-eu', `https://pay.example.com/psp-notifications/${m.merchantId}/adyen-eu`], ['psp-a', null], ['psp-b', null]]);

    // A gateway on the same folder runs that cascade: psp-a soft-declines ····1111, psp-b approves it.
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const gw = { url: proc.url, merchant: m } as unknown as Gateway;
      const token = await tokenOf(gw);
      const inst = await instrument(gw, token, '4111111111111111');
      const id = await execution(gw, token);
      assert.equal((await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst) })).status, 200);
      const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
      assert.equal(e.status, 'authorized');
      assert.deepEqual(e.paymentComposition[0].attempts.map((a: any) => [a.pspAccount, a.status]), [['psp-a', 'failed'], ['psp-b', 'succeeded']]);
    } finally {
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** A data folder with a merchant and one executions endpoint on loopback (allowed while `use` runs). */
function withWebhookEndpoint(name: string, use: (dataDir: string, endpointId: string) => void) {
  const dataDir = tempDir();
  const allowed = process.env.SWITCHYARD_WEBHOOK_ALLOW;
  process.env.SWITCHYARD_WEBHOOK_ALLOW = '127.0.0.1/32';
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', name, '--json').stdout);
    const added = cli(dataDir, 'webhooks', 'add', '--merchant', m.merchantId, '--dialect', 'executions', '--url', 'http://127.0.0.1:9/switchyard', '--json');
    assert.equal(added.status, 0, added.stderr);
    use(dataDir, JSON.parse(added.stdout).endpointId as string);
  } finally {
    if (allowed === undefined) delete process.env.SWITCHYARD_WEBHOOK_ALLOW; else process.env.SWITCHYARD_WEBHOOK_ALLOW = allowed;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

test('webhooks disable and enable print the endpoint without fields it has no value for', () => {
  withWebhookEndpoint('Hook Shop', (dataDir, endpointId) => {
    for (const command of ['disable', 'enable']) {
      const r = cli(dataDir, 'webhooks', command, '--endpoint', endpointId);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`status\\s+${command === 'disable' ? 'disabled' : 'active'}`));
      assert.doesNotMatch(r.stdout, /undefined/, r.stdout);
    }
  });
});

test('webhooks log cut at --limit says so and goes on from --cursor: every delivery once, none silently left out', () => {
  withWebhookEndpoint('Paged Log Shop', (dataDir, endpointId) => {
    for (let i = 0; i < 3; i++) assert.equal(cli(dataDir, 'webhooks', 'test', '--endpoint', endpointId).status, 0);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 5; page++) {
      const r = cli(dataDir, 'webhooks', 'log', '--endpoint', endpointId, '--limit', '2', '--json', ...(cursor ? ['--cursor', cursor] : []));
      assert.equal(r.status, 0, r.stderr);
      seen.push(...(JSON.parse(r.stdout) as { deliveryId: string }[]).map((d) => d.deliveryId));
      cursor = /more: --cursor (\S+)/.exec(r.stderr)?.[1];
      if (!cursor) break;
    }
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3);
    const text = cli(dataDir, 'webhooks', 'log', '--endpoint', endpointId, '--limit', '1');
    assert.match(text.stdout, /^more: --cursor \S+$/m, 'the text form says more follow');
    assert.equal(cli(dataDir, 'webhooks', 'log', '--cursor', 'nonsense').status, 2);
  });
});

test('webhooks log takes a --limit from 1 to 1000, as the admin API\'s delivery log does (a larger one read the whole table)', () => {
  const dataDir = tempDir();
  try {
    assert.equal(cli(dataDir, 'merchants', 'create', '--name', 'Log Shop', '--json').status, 0);
    assert.equal(cli(dataDir, 'webhooks', 'log', '--limit', '1000').status, 0);
    for (const limit of ['1001', '99999999999999999999', '0']) {
      const r = cli(dataDir, 'webhooks', 'log', '--limit', limit);
      assert.equal(r.status, 2, `${limit}: ${r.stderr}`);
      assert.match(r.stderr, /--limit must be an integer from 1 to 1000/);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
