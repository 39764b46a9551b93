/**
 * A holder's saved cards, as the secure fields list them for the shopper to pick from, show each card
 * once: the same card saved again (a second checkout with "save my card" ticked, the merchant's
 * backend storing it twice) is listed as its newest instrument, not once per save. The shopper saw the
 * same card twice, with nothing to tell the two apart. Another card with the same last four digits
 * is still listed apart.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw.close(); });

test('the same card saved twice is listed once, as its newest instrument; another card with the same last four is listed too', async () => {
  const token = await tokenOf(gw);
  const holder = 'holder-twice';
  const save = async (cardNumber: string, expiryYear = '30') => {
    const r = await call(gw, 'POST', '/payment/instruments', {
      token, body: { holderReference: holder, storeInstrument: true, data: { cardNumber, expiryMonth: '03', expiryYear, securityCode: '737', holderName: 'J D' } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
  const first = await save('4111111111111111');
  const again = await save('4111111111111111', '31');
  const other = await save('5500000000081111');
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { holderReference: holder, workflowCode: 'payment-acceptance', workspaceId: gw.merchant.workspaceId, type: 'secureFields' } });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  const clientToken = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1')).token;
  const listed = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${clientToken}` } });
  assert.equal(listed.status, 200);
  const ids = ((await listed.json()) as { results: { id: string }[] }).results.map((r) => r.id);
  assert.deepEqual(ids.sort(), [again, other].sort(), `listed: ${ids.join(', ')} (the first save: ${first})`);
  // Both saves stay instruments of their own: an authorization naming the first still finds it.
  assert.equal((await call(gw, 'GET', `/payment/instruments/${first}`, { token })).body.status, 'enabled');
});
