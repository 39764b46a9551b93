/** A holder's saved card stays in the saved-cards list however many one-time (storeInstrument: false) cards the holder used since. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

let gw: Gateway; let token: string;
before(async () => { gw = await startGateway(); token = await tokenOf(gw); });
after(() => gw.close());

const card = (storeInstrument: boolean, holderReference: string) => ({ holderReference, paymentMethod: 'card', storeInstrument,
  data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', holderName: 'John Doe' } });

test('a saved card is still listed after the holder used 50 one-time cards', async () => {
  const holder = 'crowded-holder';
  const saved = await call(gw, 'POST', '/payment/instruments', { token, body: card(true, holder) });
  assert.equal(saved.status, 201);
  for (let i = 0; i < 50; i++) assert.equal((await call(gw, 'POST', '/payment/instruments', { token, body: card(false, holder) })).status, 201);
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference: holder, workflowCode: 'payment-acceptance' } });
  const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
  const list = await (await fetch(data.links.instruments.href, { headers: { authorization: `Bearer ${data.token}` } })).json() as any;
  assert.deepEqual(list.results.map((i: any) => i.id), [saved.body.id], 'the enabled saved card vanished from the list behind one-time cards');
});
