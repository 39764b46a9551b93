import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

test('merchants create --json prints working credentials; list shows them; bad usage exits non-zero', async () => {
  const dataDir = tempDir();
  try {
    const created = cli(dataDir, 'merchants', 'create', '--name', 'Acme Shop', '--json');
    assert.equal(created.status, 0, created.stderr);
    const m = JSON.parse(created.stdout);
    assert.deepEqual(Object.keys(m).sort(), ['accessToken', 'apiKey', 'clientId', 'entityId', 'merchantId', 'workspaceId']);
    assert.match(m.entityId, /^[0-9a-f]{32}$/);
    const live = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Live Shop', '--live', '--json').stdout);

    const list = cli(dataDir, 'merchants', 'list', '--json');
    assert.equal(list.status, 0);
    const rows = JSON.parse(list.stdout);
    assert.deepEqual(rows.map((r: any) => [r.name, r.mode]), [['Acme Shop', 'test'], ['Live Shop', 'live']]);
    assert.ok(!list.stdout.includes(m.accessToken) && !list.stdout.includes(m.apiKey), 'secrets are shown only once');

    assert.notEqual(cli(dataDir, 'merchants', 'create', '--json').status, 0);
    assert.notEqual(cli(dataDir, 'nonsense').status, 0);

    // The server started on the same folder accepts the CLI's credentials.
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const r = await opp({ url: proc.url, merchant: m }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(r.body.result.code, '000.100.110');
      const l = await opp({ url: proc.url, merchant: live }, 'POST', '/v1/payments', { ...testCard, amount: '1.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal(l.body.result.code, '000.000.000');
    } finally {
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
