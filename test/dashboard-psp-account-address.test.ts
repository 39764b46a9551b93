/**
 * Where the gateway sends a PSP account's calls (card numbers and security codes in them) is the
 * operator's to say. A merchant's own dashboard admin could save an account whose `baseUrl` was
 * any address (plain http to the gateway's loopback interface, an internal host, a server of their
 * own), make it the cascade, and collect its shoppers' full card numbers and codes there. A
 * merchant's admin may now save an account without an address (the connector's own) or keep the
 * one the operator set; a gateway admin sets it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, opp, type Gateway } from './support/harness.ts';
import { signIn, postForm, type DashboardSession } from './support/dashboard.ts';

let gw: Gateway;
let internal: Server;
let internalUrl: string;
const heard: { url: string; body: string }[] = [];
let live: Awaited<ReturnType<Gateway['app']['merchants']['create']>>;
let merchantAdmin: DashboardSession;
let operator: DashboardSession;

before(async () => {
  gw = await startGateway();
  // A service only the gateway's own host can reach (an admin port, a sidecar).
  internal = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { heard.push({ url: req.url ?? '', body }); res.writeHead(404, { 'content-type': 'text/plain' }).end('internal service'); });
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
  internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
  live = await gw.app.merchants.create({ name: 'Live Shop', live: true });
  assert.ok((await gw.app.dashboard.addUser({ email: 'admin@shop.example', role: 'admin', merchantId: live.merchantId, password: 'merchant-admin-password-1' })).ok);
  assert.ok((await gw.app.dashboard.addUser({ email: 'ops@gateway.example', role: 'admin', merchantId: undefined, password: 'gateway-admin-password-1' })).ok);
  merchantAdmin = await signIn(gw.url, 'admin@shop.example', 'merchant-admin-password-1');
  operator = await signIn(gw.url, 'ops@gateway.example', 'gateway-admin-password-1');
});
after(async () => {
  await gw?.close();
  await new Promise((r) => internal?.close(r));
});

const base = () => `/dashboard/merchants/${live.merchantId}`;
const saveAccount = async (s: DashboardSession, name: string, connector: string, settings: Record<string, unknown>) => {
  const r = await postForm(gw.url, s, `${base()}/psp-accounts`, { _csrf: s.csrf, name, connector, settings: JSON.stringify(settings) });
  return { status: r.status, text: await r.text() };
};
const accountNamed = async (name: string) => (await gw.app.workflows.accounts(live.merchantId)).find((a) => a.name === name);

test('a merchant\'s admin cannot point an account at an address of their choosing, and the gateway never calls it', async () => {
  const saved = await saveAccount(merchantAdmin, 'inside', 'opp', { baseUrl: `${internalUrl}/internal-admin`, accessToken: 'merchant-chosen-token', entityId: 'e1' });
  assert.equal(saved.status, 400);
  assert.match(saved.text, /Only a gateway operator sets or changes a PSP account(&#39;|')s baseUrl/);
  assert.equal(await accountNamed('inside'), undefined, 'nothing saved');
  const cascade = await postForm(gw.url, merchantAdmin, `${base()}/workflow`, { _csrf: merchantAdmin.csrf, accounts: 'inside' });
  await cascade.text();
  await opp({ url: gw.url, merchant: live }, 'POST', '/v1/payments', {
    amount: '10.00', currency: 'EUR', paymentType: 'DB', paymentBrand: 'VISA',
    'card.number': '4111111111111111', 'card.holder': 'Jane Jones', 'card.expiryMonth': '05', 'card.expiryYear': '2034', 'card.cvv': '123',
  });
  assert.deepEqual(heard, [], 'no call reached the internal service');
});

test('a merchant\'s admin keeps the address the operator set when saving new credentials, and may use a connector\'s own', async () => {
  const address = 'https://eu-prod.acquirer.example';
  assert.equal((await saveAccount(operator, 'acq', 'opp', { baseUrl: address, accessToken: 'operator-token-1', entityId: 'e1' })).status, 200);
  assert.equal((await saveAccount(merchantAdmin, 'acq', 'opp', { baseUrl: `${address}/`, accessToken: 'rotated-token-2', entityId: 'e1' })).status, 200, 'the same address, written with a slash');
  assert.equal((await saveAccount(merchantAdmin, 'acq', 'opp', { baseUrl: 'https://elsewhere.example', accessToken: 'rotated-token-3', entityId: 'e1' })).status, 400, 'another address');
  assert.equal(((await accountNamed('acq'))?.settings as { baseUrl?: string } | undefined)?.baseUrl, address, 'the operator\'s address stays');
  assert.equal((await saveAccount(merchantAdmin, 'stripe', 'stripe', { secretKey: 'sk_live_MerchantOwnKey1234', webhookSecret: 'whsec_MerchantOwnSecret1234' })).status, 200, 'the connector\'s own address');
});
