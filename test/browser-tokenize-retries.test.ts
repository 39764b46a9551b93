/**
 * Browser tokenize retries under an idempotency key: the same holder's browser is answered the first
 * answer, whichever release stored it; another holder's gets a conflict (test/cse-client.test.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PayrailsCSE } from '@payrails/web-cse';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

let gw: Gateway;
let token: string;
before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
after(async () => { await gw?.close(); });

const card = { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' };

test('rolling upgrade: a browser tokenize retry whose first try an older node answered is replayed, not refused as a conflict', async () => {
  const init = (await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference: 'holder-upgrade', workflowCode: 'payment-acceptance' } })).body as { version: string; data: string };
  const data = JSON.parse(Buffer.from(init.data, 'base64').toString('latin1'));
  const jwe = await PayrailsCSE.init(init).encryptCardData({ card, data: { holderReference: 'holder-upgrade' } });
  const body = { encryptedInstrumentDetails: jwe, id: data.tokenization.id };
  const key = crypto.randomUUID();
  // The first try, answered by a node of the earlier release, stored under the operation it knew.
  const old = await gw.app.idempotency.admit(data.sdk.merchantId, key, 'POST /public/payment/instruments/tokenize', body);
  assert.equal(old.kind, 'proceed');
  const stored = JSON.stringify({ id: 'instrument-from-old-node', holderId: 'holder-upgrade' });
  await gw.app.idempotency.complete((old as any).claim, 201, stored);
  // The same browser (same holder, same body, same key) retries and reaches an upgraded node.
  const retry = await fetch(`${gw.url}/public/payment/instruments/tokenize`, {
    method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': key }, body: JSON.stringify(body),
  });
  const text = await retry.text();
  assert.equal(retry.status, 201, `same holder's retry across the upgrade: ${retry.status} ${text}`);
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
});

test('the same holder retrying the same body under the same key is replayed', async () => {
  const init = (await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference: 'holder-same', workflowCode: 'payment-acceptance' } })).body as { version: string; data: string };
  const data = JSON.parse(Buffer.from(init.data, 'base64').toString('latin1'));
  const jwe = await PayrailsCSE.init(init).encryptCardData({ card, data: { holderReference: 'holder-same' } });
  const body = JSON.stringify({ encryptedInstrumentDetails: jwe, id: data.tokenization.id });
  const key = crypto.randomUUID();
  const send = () => fetch(`${gw.url}/public/payment/instruments/tokenize`, { method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': key }, body });
  const a = await send(); const aBody = await a.json() as any;
  const b = await send(); const bBody = await b.json() as any;
  assert.equal(a.status, 201); assert.equal(b.status, 201); assert.equal(b.headers.get('idempotent-replayed'), 'true'); assert.equal(bBody.id, aBody.id);
});
