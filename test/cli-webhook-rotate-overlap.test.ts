/**
 * `webhooks rotate --overlap-hours` was read with Number(): an empty value (`--overlap-hours "$HOURS"`
 * with the variable unset, `--overlap-hours=`) or a blank was 0, and the endpoint's old secret stopped
 * signing at once, so every receiver still checking it refused the next webhooks; 0x18 was 24 and
 * 1e1 was 10. Each is now a usage error (exit 2), nothing rotated; a plain number still rotates.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startGateway, type Gateway } from './support/harness.ts';
import { cliEnv } from './support/cli.ts';

let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' } }); });
after(async () => { await gw?.close(); });

const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', ...args], { env: cliEnv(gw), encoding: 'utf8' });

for (const given of ['', ' ', '0x18', '1e1']) {
  test(`webhooks rotate --overlap-hours ${JSON.stringify(given)} is a usage error, nothing rotated`, async () => {
    const ep = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'executions', url: 'http://127.0.0.1:9/hook' });
    assert.ok(ep.ok);
    const r = cli('webhooks', 'rotate', '--endpoint', ep.value.endpointId, `--overlap-hours=${given}`);
    const after = await gw.app.webhooks.endpoint(ep.value.endpointId);
    assert.equal(r.status, 2, `exit ${r.status}; the endpoint's old secret now signs until ${after?.previousSecretUntil} (${r.stdout.trim()})`);
    assert.equal(after?.previousSecretUntil, undefined, 'rotated all the same');
  });
}

test('webhooks rotate --overlap-hours 0.5 rotates, the old secret signing half an hour more', async () => {
  const ep = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'executions', url: 'http://127.0.0.1:9/hook' });
  assert.ok(ep.ok);
  const r = cli('webhooks', 'rotate', '--endpoint', ep.value.endpointId, '--overlap-hours', '0.5');
  assert.equal(r.status, 0, r.stderr);
  const until = (await gw.app.webhooks.endpoint(ep.value.endpointId))?.previousSecretUntil;
  assert.ok(until !== undefined && Math.abs(Date.parse(until) - Date.now() - 1_800_000) < 120_000, String(until));
});
