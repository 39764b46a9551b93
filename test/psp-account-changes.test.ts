/**
 * A PSP account changed by an operator: settings read from the admin API and put back keep their
 * credentials (a mask is never stored as one), and an account that holds authorizations keeps its
 * connector, so their captures reach the PSP that holds them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, pay, startGateway, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';
import { adminHeaders } from './support/process.ts';

let a: Gateway;
let b: Gateway;

before(async () => {
  b = await startGateway();
  a = await startGateway();
});
after(async () => { await a?.close(); await b?.close(); });

const admin = () => adminHeaders(a.dataDir, a.app.config.adminToken);
const accountUrl = (name: string) => `${a.url}/admin/merchants/${a.merchant.merchantId}/psp-accounts/${name}`;

describe('PSP account round trip', () => {
  test('putting back the settings the admin API showed (masked credential) does not replace the real credential with its mask', async () => {
    const settings = { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId };
    await configureCascade(a, { 'acq-b': { connector: 'opp', settings } }, ['acq-b']);
    const before = await pay(a);
    assert.equal(before.body.result.code, '000.100.110', JSON.stringify(before.body));

    // The operator reads the account and puts it back with a new timeout (GET → edit → PUT).
    const shown = await (await fetch(accountUrl('acq-b'), { headers: admin() })).json() as any;
    assert.match(shown.settings.accessToken, /^\*\*\*\*/);
    const r = await fetch(accountUrl('acq-b'), { method: 'PUT', headers: admin(), body: JSON.stringify({ connector: 'opp', settings: shown.settings, timeoutMs: 5000 }) });
    // Either refused (a mask is not a credential) or the stored credential kept: never a "200" that swaps in the mask.
    if (r.status === 200) {
      const after = await pay(a);
      assert.equal(after.body.result.code, '000.100.110', `the mask ${shown.settings.accessToken} was stored as the bearer token: ${JSON.stringify(after.body.result)}`);
    } else {
      assert.equal(r.status, 400);
    }
  });
});

describe('PSP account replaced with another connector', () => {
  test('a capture of a payment the old PSP authorized still reaches that PSP (or the connector change is refused)', async () => {
    const settings = { baseUrl: b.url, accessToken: b.merchant.accessToken, entityId: b.merchant.entityId };
    await configureCascade(a, { 'acq-c': { connector: 'opp', settings } }, ['acq-c']);
    const pa = await pay(a, { paymentType: 'PA' });
    assert.equal(pa.body.result.code, '000.100.110', JSON.stringify(pa.body));
    const atB = () => b.app.storage.db.selectFrom('payments').select(['status']).where('merchant_id', '=', b.merchant.merchantId)
      .orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    const heldAtB = await atB();

    // The operator "replaces" the account with another connector while the authorization is open.
    const r = await fetch(accountUrl('acq-c'), { method: 'PUT', headers: admin(), body: JSON.stringify({ connector: 'simulator', settings: {} }) });
    const cp = await opp(a, 'POST', `/v1/payments/${pa.body.id}`, { paymentType: 'CP', amount: '92.00', currency: 'EUR' });
    if (r.status === 200 && /^000\.(000|100)\./.test(cp.body.result.code)) {
      // The gateway says captured: then the acquirer that holds the authorization must have captured it.
      assert.notEqual((await atB()).status, heldAtB.status,
        `gateway answered capture ${cp.body.result.code} but the acquirer holding the authorization still shows ${heldAtB.status}: the capture went to the simulator`);
    }
  });
});
