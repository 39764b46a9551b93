/**
 * A saved card that has expired since it was stored: the holder's saved-cards list (client/init's
 * links.instruments) must not offer it as usable, and an authorization with it must be refused
 * naming the field of the authorize request (paymentInstrumentId), not a field of another request.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, tokenOf, wf } from './support/executions.ts';

let gw: Gateway; let offset = 0;
before(async () => { gw = await startGateway({ clock: { now: () => Date.now() + offset } }); });
after(() => { offset = 0; return gw.close(); });

/** A card saved for `holder` that expires at the end of the current month; then the clock moves 40 days on. */
async function expiredSavedCard(holder: string): Promise<{ id: string; token: string }> {
  offset = 0;
  const now = new Date();
  const token0 = await tokenOf(gw);
  const r = await call(gw, 'POST', '/payment/instruments', { token: token0, body: { holderReference: holder, paymentMethod: 'card', storeInstrument: true,
    data: { cardNumber: '4111111111111111', expiryMonth: String(now.getUTCMonth() + 1).padStart(2, '0'), expiryYear: String(now.getUTCFullYear()), holderName: 'John Doe' } } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  offset = 40 * 86_400_000;
  return { id: r.body.id, token: await tokenOf(gw) };
}

test('the saved-cards list of client/init does not offer an expired card as enabled (the gateway refuses to authorize it)', async () => {
  const holder = 'expired-list';
  const { id, token } = await expiredSavedCard(holder);
  const e = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${e}/authorize`, { token, body: authorizeBody(id, '10.00') });
  assert.notEqual(ack.status, 200, 'precondition: the gateway does not authorize an expired card');
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference: holder, workflowCode: 'payment-acceptance' } });
  const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
  const list = await (await fetch(data.links.instruments.href, { headers: { authorization: `Bearer ${data.token}` } })).json() as any;
  const offered = list.results.filter((i: any) => i.id === id && i.status === 'enabled');
  assert.deepEqual(offered, [], `an expired card is offered to the shopper as a usable saved card: ${JSON.stringify(list.results)}`);
});

test('an authorization with an expired saved instrument is refused naming paymentInstrumentId, not a field the request does not have', async () => {
  const holder = 'expired-authorize';
  const { id, token } = await expiredSavedCard(holder);
  const e = await execution(gw, token, holder);
  const ack = await call(gw, 'POST', `${wf}/${e}/authorize`, { token, body: authorizeBody(id, '10.00') });
  assert.equal(ack.status, 400, JSON.stringify(ack.body));
  assert.match(ack.body.errors[0].detail, /paymentComposition\[0\]\.paymentInstrumentId/, `the refusal names a field of another request: ${ack.body.errors[0].detail}`);
});
