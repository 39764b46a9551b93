/**
 * Every column of the dashboard's tables has a header a screen reader can say (WCAG 1.3.1, 4.1.2):
 * the PSP accounts' and the delivery log's columns of buttons had an empty `<th>`, announced as
 * "blank" before each button of the column.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, startGateway, type Gateway } from './support/harness.ts';
import { signIn } from './support/dashboard.ts';

const password = 'a long test password';
let gw: Gateway;
before(async () => {
  gw = await startGateway({ env: { SWITCHYARD_WEBHOOK_ALLOW: '127.0.0.0/8' } });
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@example.com', role: 'admin', merchantId: undefined, password })).ok);
});
after(async () => { await gw?.close(); });

test('no table of the dashboard has a column without a header', async () => {
  const merchantId = gw.merchant.merchantId;
  assert.ok((await gw.app.workflows.putAccount(merchantId, 'acq', { connector: 'simulator', settings: {} })).ok);
  const ep = await gw.app.webhooks.addEndpoint({ merchantId, dialect: 'opp', url: 'http://127.0.0.1:9/hook' });
  assert.ok(ep.ok);
  const paid = await pay(gw, { paymentType: 'DB', amount: '12.00' });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  const s = await signIn(gw.url, 'admin@example.com', password);
  const pages = ['', '/payments', `/payments/${paid.body.id as string}`, '/reconciliation', '/merchants', `/merchants/${merchantId}`, `/webhooks/${ep.value.endpointId}`, '/audit', '/keys'];
  let tables = 0;
  for (const path of pages) {
    const r = await fetch(`${gw.url}/dashboard${path}`, { headers: { cookie: s.cookie } });
    assert.equal(r.status, 200, `/dashboard${path}`);
    const page = await r.text();
    for (const [head] of page.matchAll(/<thead>[\s\S]*?<\/thead>/g)) {
      tables++;
      for (const [, cell] of head.matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g)) {
        assert.notEqual(cell!.replace(/<[^>]*>/g, '').trim(), '', `/dashboard${path}: a column header is empty in ${head}`);
      }
    }
  }
  assert.ok(tables >= 6, `only ${tables} tables were seen`);
});
