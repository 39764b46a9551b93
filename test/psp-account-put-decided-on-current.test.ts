/**
 * Two operators change one PSP account at once. Operator A re-saves it on its connector with other
 * settings, having read it; meanwhile operator B moves it to another PSP (it held nothing: accepted)
 * and a payment is authorized there. A's change, judged on the account as A had read it, was no
 * move and went through unchecked, moving the account (and the payment's capture, void and status
 * calls) back to a PSP that never heard of it. Whether a change moves the account is decided on the
 * account as it is when the change is made.
 *
 * The same for a credential given back as its mask (a re-save changing only the timeout): it stands
 * for the credential of the account as the operator read it; rotated since, or the account removed
 * and put again with another, the mask is refused, not resolved to the old credential.
 *
 * The interleavings are made certain by a second workflow service (another node, or a request of
 * this one) over the same store whose reads are held until the other operator's change is done.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkflowService } from '../src/workflows/service.ts';
import { createWorkflowStore } from '../src/workflows/kysely-store.ts';
import { pspAccountInUse } from '../src/payments/kysely-store.ts';
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

/**
 * Operator A: a workflow service over the same store (another node, or a request of this one) whose
 * read of the accounts (`accounts`) or of one account's stored credentials (`account`) is held once
 * made, until `release`.
 */
function heldOperator(read: 'accounts' | 'account') {
  const store = createWorkflowStore(a.app.storage.uow, pspAccountInUse);
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let made!: () => void;
  const hasRead = new Promise<void>((r) => { made = r; });
  const held = read === 'accounts'
    ? { accounts: async (m: string) => { const r = await store.accounts(m); made(); await gate; return r; } }
    : { account: async (id: string) => { const r = await store.account(id); made(); await gate; return r; } };
  const service = createWorkflowService({
    store: { ...store, ...held },
    clock: systemClock, ids: randomIds, connectors: connectorFactories({ simulator: createSimulatedAcquirer() }),
    secrets: a.app.vault, merchantOf: (id) => a.app.merchants.byId(id), maxTimeoutMs: a.app.config.pspTimeoutMs,
  });
  return { service, hasRead, release };
}

test('a PUT that read the account before another operator moved it (and a payment was made there) does not move it back unchecked', async () => {
  await configureCascade(a, { 'acq-x': { connector: 'simulator', settings: {} } }, ['acq-x']);
  const { service: operatorA, hasRead, release } = heldOperator('accounts');
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

for (const how of ['removed and put again', 'put again (token rotated)'] as const) {
  test(`a re-save keeping the masked token does not write back the token of an account since ${how}`, async () => {
    const m = a.merchant.merchantId;
    const name = how === 'removed and put again' ? 'acq-r' : 'acq-t';
    const at = (accessToken: string) => ({ baseUrl: 'http://127.0.0.1:9', accessToken, entityId: 'entity1' });
    const first = await a.app.workflows.putAccount(m, name, { connector: 'opp', settings: at('old-token-AAAA') });
    assert.ok(first.ok, JSON.stringify(first));
    const shown = first.value.settings as Record<string, unknown>;
    assert.match(String(shown.accessToken), /^\*\*\*\*/);

    // Held once A has read the stored token (withStoredSecrets -> routedAccount -> account).
    const { service: operatorA, hasRead, release } = heldOperator('account');
    // Operator A changes the timeout only, giving the settings back as shown (token masked).
    const putA = operatorA.putAccount(m, name, { connector: 'opp', settings: shown, timeoutMs: 250 });
    await hasRead;

    // Operator B replaces the token.
    if (how === 'removed and put again') assert.equal(await a.app.workflows.removeAccount(m, name), 'removed');
    const second = await a.app.workflows.putAccount(m, name, { connector: 'opp', settings: at('new-token-BBBB') });
    assert.ok(second.ok, JSON.stringify(second));

    release();
    const r = await putA;
    const row = (await a.app.workflows.accounts(m)).find((x) => x.name === name)!;
    const token = ((await a.app.workflows.routedAccount(row.id))!.settings as Record<string, unknown>).accessToken;
    assert.notEqual(token, 'old-token-AAAA',
      `operator A's PUT (${JSON.stringify(r)}) wrote the old token back over operator B's new one: the mask was resolved on the account as read before the unit`);
    assert.equal(token, 'new-token-BBBB');
    assert.equal(r.ok, false, 'A is told the account changed since it was read');
    assert.match((r as { error: string }).error, /settings\.accessToken: the account's credentials changed since they were read/);
  });
}
