/**
 * A saved card the merchant deletes leaves the holder's list for good, even when the holder had saved
 * the same card before. The list shows each card once, as its newest instrument; deleting that one
 * used to bring the older save of the same card back onto the list, so the shopper saw the card they
 * had just removed. The older instrument stays an instrument of its own (a merchant may charge it for
 * a subscription), it is only no longer offered. Deleting an older save that was not listed leaves
 * the listed one alone, and saving the card again lists it again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway(); });
after(async () => { await gw.close(); });

async function listedFor(token: string, holder: string): Promise<string[]> {
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { holderReference: holder, workflowCode: 'payment-acceptance', workspaceId: gw.merchant.workspaceId, type: 'secureFields' } });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  const clientToken = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1')).token;
  const listed = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${clientToken}` } });
  assert.equal(listed.status, 200);
  return ((await listed.json()) as { results: { id: string }[] }).results.map((r) => r.id).sort();
}

async function saver(token: string, holder: string) {
  return async (cardNumber: string, expiryYear = '30') => {
    const r = await call(gw, 'POST', '/payment/instruments', {
      token, body: { holderReference: holder, storeInstrument: true, data: { cardNumber, expiryMonth: '03', expiryYear, securityCode: '737', holderName: 'J D' } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
}

const remove = async (token: string, id: string) => {
  const r = await call(gw, 'DELETE', `/payment/instruments/${id}`, { token });
  assert.ok(r.status === 200 || r.status === 204, JSON.stringify(r.body));
};

test('deleting the listed save of a card saved twice takes the card off the list; the older save stays an instrument', async () => {
  const token = await tokenOf(gw);
  const holder = 'holder-deleted-twice';
  const save = await saver(token, holder);
  const first = await save('4111111111111111');
  const again = await save('4111111111111111', '31');
  const other = await save('5500000000081111');
  assert.deepEqual(await listedFor(token, holder), [again, other].sort());
  await remove(token, again);
  assert.deepEqual(await listedFor(token, holder), [other], 'the card just removed came back as its older save');
  assert.equal((await call(gw, 'GET', `/payment/instruments/${first}`, { token })).body.status, 'enabled');
  // Saved once more, it is the holder's card again.
  const third = await save('4111111111111111', '32');
  assert.deepEqual(await listedFor(token, holder), [third, other].sort());
});

test('deleting an older save that was not listed leaves the newer one listed', async () => {
  const token = await tokenOf(gw);
  const holder = 'holder-deleted-older';
  const save = await saver(token, holder);
  const first = await save('4111111111111111');
  const again = await save('4111111111111111', '31');
  await remove(token, first);
  assert.deepEqual(await listedFor(token, holder), [again]);
});
