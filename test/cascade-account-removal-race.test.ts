/**
 * An operator names an account in the cascade while another removes it: one of the two is refused.
 * Each checked, then wrote, with nothing between: both were accepted (4 of 60 tries on SQLite), the
 * cascade named an account that was gone, and routing, finding none of its accounts, sent the
 * merchant's payments to the gateway's own simulated acquirer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresAvailable, startGateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

const pgUp = await postgresAvailable();

for (const store of ['sqlite', 'postgres'] as const) {
  test(`${store}: a cascade naming an account and the account's removal, sent at once, never both succeed`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, async () => {
    const gw = await startGateway({ store });
    try {
      const admin = adminHeaders(gw.dataDir, gw.app.config.adminToken);
      const base = `${gw.url}/admin/merchants/${gw.merchant.merchantId}`;
      const outcomes: string[] = [];
      for (let i = 0; i < 60; i++) {
        await configureCascade(gw, { [`acq${i}`]: { connector: 'simulator', settings: {} } }, []);
        const [named, removed] = await Promise.all([
          fetch(`${base}/workflows/payment-acceptance`, { method: 'PATCH', headers: admin, body: JSON.stringify({ accounts: [`acq${i}`] }) }),
          fetch(`${base}/psp-accounts/acq${i}`, { method: 'DELETE', headers: { authorization: admin.authorization } }),
        ]);
        outcomes.push(`${named.status}/${removed.status}`);
        const wf = await (await fetch(`${base}/workflows/payment-acceptance`, { headers: admin })).json() as { accounts: string[] };
        const names = (await (await fetch(`${base}/psp-accounts`, { headers: admin })).json() as { accounts: { name: string }[] }).accounts.map((x) => x.name);
        assert.ok(wf.accounts.every((n) => names.includes(n)), `try ${i}: the cascade names ${JSON.stringify(wf.accounts)}, the accounts are ${JSON.stringify(names)}`);
      }
      assert.ok(outcomes.every((o) => o === '200/409' || o === '400/200'), outcomes.join(' '));
    } finally {
      await gw.close();
    }
  });
}
