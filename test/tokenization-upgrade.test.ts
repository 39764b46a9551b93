import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PayrailsCSE } from '@payrails/web-cse';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

/**
 * Migration 100 deletes the gateway-wide tokenization keys: a browser that still holds one is told
 * to call client/init again (not that its encryption is wrong). A second node over the same store
 * (no key cached in its process) stands for the upgraded node the browser's tokenize reaches.
 */
let gw: Gateway;
let gw2: Gateway;
before(async () => {
  gw = await startGateway();
  gw2 = await startGateway({ env: { SWITCHYARD_DATA_DIR: gw.dataDir } });
});
after(async () => { await gw2?.close().catch(() => {}); await gw?.close(); });

test('a browser session whose key migration 100 deleted is told to call client/init again', async () => {
  const token = await tokenOf(gw);
  const r = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference: 'h-up' } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const cse = PayrailsCSE.init(r.body);
  const jwe = await cse.encryptCardData({ card: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' }, data: { holderReference: 'h-up' } });
  const data = JSON.parse(Buffer.from(r.body.data, 'base64').toString('latin1'));
  await gw.app.storage.db.deleteFrom('tokenization_keys').execute(); // what migration 100 does
  const res = await fetch(`${gw2.url}/public/payment/instruments/tokenize`, {
    method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ encryptedInstrumentDetails: jwe, id: data.tokenization.id, storeInstrument: false }),
  });
  const body = await res.json() as any;
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.match(JSON.stringify(body), /client\/init again/, 'told to call client/init again, as the migration promises');
});
