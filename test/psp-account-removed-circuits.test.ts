/**
 * A removed PSP account leaves nothing of itself in a node's memory: its circuit breaker and its
 * metric series (`switchyard_psp_circuit_state{psp_account}`, `switchyard_psp_circuit_opened_total`)
 * go with it, on the node that removed it at once and on the others at their next sweep. Kept, they
 * grew with every account ever called, and a removed account whose circuit was open read open on
 * every scrape until the node restarted. The bound: one series per account that exists.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

let a: Gateway;
let c: Gateway;

before(async () => {
  c = await startGateway({ env: { SWITCHYARD_SIM_ERROR_RATE: '1' } });
  a = await startGateway({ env: { SWITCHYARD_BREAKER_FAILURES: '1', SWITCHYARD_BREAKER_OPEN_MS: '60000' } });
});
after(async () => { await a?.close(); await c?.close(); });

test('removed PSP accounts leave no circuit series behind (bounded by the accounts that exist)', async () => {
  const admin = adminHeaders(a.dataDir, a.app.config.adminToken);
  const m = await a.app.merchants.create({ name: 'Account churn' });
  const gw = { ...a, merchant: m };
  const accountsUrl = `${a.url}/admin/merchants/${m.merchantId}/psp-accounts`;
  const rounds = 15;
  for (let i = 0; i < rounds; i++) {
    const name = `acq-${i}`;
    await configureCascade(gw, { [name]: { connector: 'opp', settings: { baseUrl: c.url, accessToken: c.merchant.accessToken, entityId: c.merchant.entityId } }, sim: {} }, [name, 'sim'], ['soft', 'error']);
    // The failing acquirer's one failure opens its circuit; the payment moves on to the simulator.
    const p = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '7.00', currency: 'EUR', paymentType: 'DB' });
    assert.equal(p.body.result.code, '000.100.110', JSON.stringify(p.body));
    // The operator replaces the account: out of the cascade, then removed.
    await configureCascade(gw, {}, ['sim']);
    const r = await fetch(`${accountsUrl}/${name}`, { method: 'DELETE', headers: { authorization: (admin as Record<string, string>).authorization } });
    assert.ok(r.status === 200 || r.status === 204, `removed ${name}: ${r.status} ${await r.text()}`);
  }
  const existing = (await a.app.storage.db.selectFrom('psp_accounts').select('id').execute()).map((x) => x.id);
  const scrape = (await a.app.metrics.scrape()).body;
  const series = scrape.split('\n').filter((l) => l.startsWith('switchyard_psp_circuit_state{'));
  const accountsInSeries = series.map((l) => /psp_account="([^"]+)"/.exec(l)![1]!);
  const ghosts = accountsInSeries.filter((id) => id !== 'default' && !existing.includes(id));
  const openGhosts = series.filter((l) => l.endsWith(' 2') && ghosts.some((g) => l.includes(g)));
  // A bound on the structure's size: at most one series per account that still exists (+ default).
  assert.ok(series.length <= existing.length + 1,
    `${series.length} circuit series for ${existing.length} existing accounts; ${ghosts.length} belong to removed accounts, ${openGhosts.length} of them still say "open"`);
});

test('another node drops a removed account\'s circuit at its next sweep', async () => {
  const m = await a.app.merchants.create({ name: 'Removed elsewhere' });
  const gw = { ...a, merchant: m };
  await configureCascade(gw, { gone: { connector: 'opp', settings: { baseUrl: c.url, accessToken: c.merchant.accessToken, entityId: c.merchant.entityId } }, sim: {} }, ['gone', 'sim'], ['soft', 'error']);
  assert.equal((await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '7.00', currency: 'EUR', paymentType: 'DB' })).body.result.code, '000.100.110');
  const id = (await a.app.storage.db.selectFrom('psp_accounts').select('id').where('merchant_id', '=', m.merchantId).where('name', '=', 'gone').executeTakeFirstOrThrow()).id;
  assert.equal(a.app.breakers.view(id).state, 'open');
  // Removed by another process (the CLI, another node): straight from the store, this node not told.
  await configureCascade(gw, {}, ['sim']);
  await a.app.storage.db.deleteFrom('psp_accounts').where('id', '=', id).execute();
  assert.match((await a.app.metrics.scrape()).body, new RegExp(`psp_account="${id}"`), 'still there before the sweep');
  await a.app.sweepCircuits();
  assert.doesNotMatch((await a.app.metrics.scrape()).body, new RegExp(`psp_account="${id}"`));
  assert.equal(a.app.breakers.view(id).state, 'closed', 'its circuit is gone (a fresh one reads closed)');
});
