/**
 * A misspelt --merchant is a failed command for the webhook commands too, as for the ledger's
 * ("no merchant X", exit 1). Taken as a merchant without endpoints or failures, `webhooks list` and
 * `webhooks log` printed an empty list and `webhooks redeliver --since` reported `redelivered 0`,
 * all with exit 0: an operator checking why a merchant gets no webhooks, or redelivering after an
 * outage, was told everything was fine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tempDir } from './support/harness.ts';
import { runCli as cli, startGatewayProcess } from './support/process.ts';

process.env.SWITCHYARD_MASTER_KEY = 'cd'.repeat(32);

test('webhook commands refuse an unknown --merchant as the ledger commands do', async () => {
  const dataDir = tempDir();
  // The first start makes the key ring the webhook commands open.
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0' });
  try {
    const m = JSON.parse(cli(dataDir, 'merchants', 'create', '--name', 'Acme Shop', '--json').stdout);
    const typo = m.merchantId.slice(0, -1) + (m.merchantId.endsWith('0') ? '1' : '0');

    const ledger = cli(dataDir, 'ledger', 'balances', '--merchant', typo);
    assert.equal(ledger.status, 1);
    assert.match(ledger.stderr, /no merchant/);

    for (const args of [
      ['webhooks', 'list', '--merchant', typo, '--json'],
      ['webhooks', 'log', '--merchant', typo, '--json'],
      ['webhooks', 'redeliver', '--since', '2026-01-01T00:00:00Z', '--merchant', typo, '--json'],
    ]) {
      const r = cli(dataDir, ...args);
      assert.notEqual(r.status, 0, `${args.join(' ')} exited 0 with ${r.stdout.trim()}`);
      assert.match(r.stderr, /merchant/, args.join(' '));
    }
  } finally {
    await proc.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
