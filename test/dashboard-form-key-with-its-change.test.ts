/**
 * A dashboard form's one-time key is answered in the unit of work of the change it records (a
 * merchant's credentials rotated, a webhook endpoint added), as a payment action's is. Written
 * apart, a failure between the two (the store blipping, the node dying) left the change made, the
 * page saying nothing was changed, no audit row, and the key open for a later sending (on another
 * node, once the claim was old) to take over and make the change again. Now such a failure undoes
 * the change with it, and the form sent again does it once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { postForm, signIn, type DashboardSession } from './support/dashboard.ts';
import { loopbackAllow } from './support/webhooks.ts';

const pgUp = await postgresAvailable();
const password = 'a long test password';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`a form's key and its change commit together (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL is not reachable' : undefined }, () => {
    let gw: Gateway;
    let s: DashboardSession;
    before(async () => {
      gw = await startGateway({ store, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
      assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
      s = await signIn(gw.url, 'admin@example.com', password);
    });
    after(async () => { await gw?.close(); });

    /** The key's answer fails once inside the change's unit of work, as a store that drops its connection there would. */
    function failKeyOnce() {
      const idem = gw.app.idempotency as Record<'complete' | 'completeIn', (...a: unknown[]) => Promise<void>>;
      const originals = { complete: idem.complete, completeIn: idem.completeIn };
      const fail = async () => {
        Object.assign(idem, originals);
        throw Object.assign(new Error('Connection terminated unexpectedly'), { code: '57P01' });
      };
      idem.complete = fail;
      idem.completeIn = fail;
    }
    const formKeyOf = async (r: Response) => /name="formKey" value="([0-9a-f-]{36})"/.exec(await r.text())?.[1];
    const audited = async (action: string) => (await gw.app.dashboard.auditLog({ limit: 100 })).filter((e) => e.action === action && e.outcome === 'ok').length;

    test('a rotation whose key fails to be answered is not made; the form sent again rotates once, then says it was', async () => {
      const m = gw.merchant.merchantId;
      const confirm = await postForm(gw.url, s, `/dashboard/merchants/${m}/credentials/rotate`, { _csrf: s.csrf, dialect: 'opp' });
      const form = { _csrf: s.csrf, dialect: 'opp', confirmed: 'yes', formKey: (await formKeyOf(confirm))! };
      assert.ok(form.formKey);
      failKeyOnce();
      const first = await postForm(gw.url, s, `/dashboard/merchants/${m}/credentials/rotate`, form);
      assert.equal(first.status, 503, await first.text());
      assert.notEqual((await opp(gw, 'GET', `/v1/payments/${'0'.repeat(32)}`)).status, 401, 'the old token still works: nothing was rotated');
      assert.equal(await audited('merchant.rotate_credentials'), 0);
      const again = await postForm(gw.url, s, `/dashboard/merchants/${m}/credentials/rotate`, form);
      assert.equal(again.status, 200);
      assert.match(await again.text(), /rotated/);
      assert.equal((await opp(gw, 'GET', `/v1/payments/${'0'.repeat(32)}`)).status, 401, 'rotated now');
      const third = await postForm(gw.url, s, `/dashboard/merchants/${m}/credentials/rotate`, form);
      assert.match(await third.text(), /Credentials already rotated/);
      assert.equal(await audited('merchant.rotate_credentials'), 1);
    });

    test('an endpoint whose key fails to be answered is not added; the form sent again adds one, then says it did', async () => {
      const m = gw.merchant.merchantId;
      const page = await fetch(`${gw.url}/dashboard/merchants/${m}`, { headers: { cookie: s.cookie } });
      const form = { _csrf: s.csrf, url: 'http://127.0.0.1:9/once', dialect: 'executions', formKey: (await formKeyOf(page))! };
      assert.ok(form.formKey);
      const endpoints = async () => (await gw.app.webhooks.listEndpoints(m)).filter((e) => e.url === 'http://127.0.0.1:9/once').length;
      failKeyOnce();
      assert.equal((await postForm(gw.url, s, `/dashboard/merchants/${m}/webhooks`, form)).status, 503);
      assert.equal(await endpoints(), 0, 'nothing added');
      assert.equal((await postForm(gw.url, s, `/dashboard/merchants/${m}/webhooks`, form)).status, 201);
      const third = await postForm(gw.url, s, `/dashboard/merchants/${m}/webhooks`, form);
      assert.match(await third.text(), /Endpoint already added/);
      assert.equal(await endpoints(), 1);
    });
  });
}
