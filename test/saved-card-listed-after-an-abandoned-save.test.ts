/**
 * A save is taken back when the payment that made it ended before any issuer saw the card (3-D
 * Secure cancelled or failed, never finished): that says nothing about the card. A holder who has a
 * card saved, pays again typing the same card with "save my card" and then cancels the challenge,
 * still finds the card they saved before on their list: it is still enabled, and such a payment
 * changes nothing for a card saved already. (A rule that took a deleted save as the latest word on
 * its card hid it.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, poll, tokenOf, wf } from './support/executions.ts';

let gw: Gateway;
before(async () => { gw = await startGateway({ env: { SWITCHYARD_ASYNC_TIMEOUT_MS: '60000' } }); });
after(async () => { await gw?.close(); });

async function listedFor(token: string, holder: string): Promise<string[]> {
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { holderReference: holder, workflowCode: 'payment-acceptance', workspaceId: gw.merchant.workspaceId, type: 'secureFields' } });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  const clientToken = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1')).token;
  const listed = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${clientToken}` } });
  assert.equal(listed.status, 200);
  return ((await listed.json()) as { results: { id: string }[] }).results.map((r) => r.id).sort();
}

test('a save taken back because its shopper cancelled 3-D Secure does not hide the card saved before', async () => {
  const token = await tokenOf(gw);
  const holder = 'holder-cancelled-resave';
  const card = '4200000000000042'; // a challenge
  // The card saved by the holder earlier (secure fields' tokenize with storeInstrument: true).
  const saved = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference: holder, storeInstrument: true, data: { cardNumber: card, expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'J D' } },
  });
  assert.equal(saved.status, 201, JSON.stringify(saved.body));
  assert.deepEqual(await listedFor(token, holder), [saved.body.id]);

  // Next order: the shopper types the same card again, ticks "save my card", then cancels the challenge.
  const transient = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference: holder, data: { cardNumber: card, expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'J D' } },
  });
  assert.equal(transient.status, 201, JSON.stringify(transient.body));
  const id = await execution(gw, token, holder);
  const body = authorizeBody(transient.body.id, '10.00');
  body.paymentComposition[0]!.storeInstrument = true;
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorizePending');
  const answered = await fetch(`${e.requiredAction.href as string}/result`, { method: 'POST', body: new URLSearchParams({ outcome: 'cancelled' }), redirect: 'manual' });
  assert.equal(answered.status, 303);
  assert.equal((await call(gw, 'GET', `/payment/instruments/${transient.body.id}`, { token })).body.status, 'deleted');

  // The card saved before is still enabled, and nothing said anything about the card itself.
  assert.equal((await call(gw, 'GET', `/payment/instruments/${saved.body.id}`, { token })).body.status, 'enabled');
  assert.deepEqual(await listedFor(token, holder), [saved.body.id],
    'the holder\'s saved card left their list because a later save of it was taken back after a cancelled challenge');
});
