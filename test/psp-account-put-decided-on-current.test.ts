/**
 * Two operators change one PSP account at once. Operator A re-saves it on its connector with other
 * settings, having read it; meanwhile operator B moves it to another PSP (it held nothing: accepted)
 * and a payment is authorized there. A's change, judged on the account as A had read it, was no
 * move and went through unchecked, moving the account (and the payment's capture, void and status
 * calls) back to a PSP that never heard of it. Whether a change moves the account is decided on the
 * account as it is when the change is made.
 *
 * The interleaving is made certain by a second workflow service (another node, or a request of this
 * one) over the same store whose read of the accounts is held until B's move and payment are done.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkflowService } from '../src/workflows/service.ts';
import { createWorkflowStore } from '../src/workflows/kysely-store.ts';
import { connectorFactories } from '../src/processors/connectors.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { systemClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

let a: Gateway;
let b: Gateway;
before(async () => { b = await startGateway(); a = await startGateway(); });
after(async () => { await a?.close(); await b?.close(); });

test('a PUT that read the account before another operator moved it (and a payment was made there) does not move it back unchecked', async () => {
  await configureCascade(a, { 'acq-x': { connector: 'simulator', settings: {} } }, ['acq-x']);
  const store = createWorkflowStore(a.app.storage.uow);
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let read!: () => void;
  const hasRead = new Promise<void>((r) => { read = r; });
  const operatorA = createWorkflowService({
    store: { ...store, accounts: async (m) => { const r = await store.accounts(m); read(); await gate; return r; } },
    clock: systemClock, ids: randomIds, connectors: connectorFactories({ simulator: createSimulatedAcquirer() }),
    secrets: a.app.vault, merchantOf: (id) => a.app.merchants.byId(id), maxTimeoutMs: a.app.config.pspTimeoutMs,
  });
  // Operator A re-saves the account on its simulator with other settings; it has read the account.
  const putA = operatorA.putAccount(a.merchant.merchantId, 'acq-x', { connector: 'simulator', settings: { latencyMs: 1 } });
  await hasRead;

  // Operator B moves it to an OPP PSP (it holds nothing: accepted), and a payment is authorized there.
  const settings = { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId };
  const moved = await fetch(`${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/acq-x`, {
    method: 'PUT', headers: adminHeaders(a.dataDir, a.app.config.adminToken), body: JSON.stringify({ connector: 'opp', settings }),
  });
  assert.equal(moved.status, 200, await moved.text());
  const pa = await pay(a, { paymentType: 'PA', amount: '11.00' });
  assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));

  release();
  const r = await putA;
  const account = await a.app.storage.db.selectFrom('psp_accounts').select('connector').where('name', '=', 'acq-x')
    .where('merchant_id', '=', a.merchant.merchantId).executeTakeFirstOrThrow();
  assert.equal(r.ok, false,
    `operator A's PUT was accepted and moved the account holding an OPP authorization to ${account.connector}: its capture and void now go to a PSP that never heard of it`);
  assert.match((r as { error: string }).error, /holds payments authorized at its opp connector/);
  assert.equal(account.connector, 'opp');
});
