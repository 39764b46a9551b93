/**
 * `payments show` lists a payment's operations, attempts, 3-D Secure, webhooks and postings, each at
 * its time: a 3-D Secure session answered after a while is shown opened at its start and completed
 * when the shopper answered, as its JSON (`resolvedAt`) and the dashboard's timeline say.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { opp, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, runCli as cli, startGatewayProcess } from './support/process.ts';
import { answer, openRedirect } from './support/shopper.ts';

test('payments show prints a completed 3-D Secure session at the time it was answered, not when it was opened', async () => {
  const dataDir = tempDir();
  try {
    const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
    try {
      const merchant = demoCredentials(dataDir);
      const r = await opp({ url: proc.url, merchant }, 'POST', '/v1/payments', {
        ...testCard, 'card.number': '4200000000000042', amount: '49.99', currency: 'EUR', paymentType: 'DB',
        shopperResultUrl: `${proc.url}/hosted/return`,
      });
      assert.equal(r.body.result.code, '000.200.000');
      await new Promise((res) => setTimeout(res, 1500)); // the shopper takes a moment on the issuer's page
      const page = await openRedirect(r.body.redirect);
      assert.equal((await answer(page, 'completed')).status, 303);

      const story = JSON.parse(cli(dataDir, 'payments', 'show', r.body.id, '--json').stdout);
      const session = story.threeDSecure[0];
      assert.equal(session.status, 'completed');
      assert.ok(Date.parse(session.resolvedAt) - Date.parse(session.createdAt) >= 1000);

      const text = cli(dataDir, 'payments', 'show', r.body.id).stdout;
      const line = text.split('\n').find((l) => l.includes('3-D Secure completed'));
      assert.ok(line, text);
      assert.equal(line.trim().split(/\s+/)[0], session.resolvedAt, `the line names when it completed:\n${text}`);
    } finally {
      await proc.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
