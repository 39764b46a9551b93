/**
 * A holder's valid saved card stays in the saved-cards list however many of their newer saved cards
 * have expired since: the list took the 50 newest and dropped the expired ones after, so 50 newer
 * expired cards hid an older one still valid.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

let gw: Gateway; let offset = 0;
before(async () => { gw = await startGateway({ clock: { now: () => Date.now() + offset } }); });
after(() => { offset = 0; return gw.close(); });

/** A Visa test number (Luhn-valid) ending in `n`. */
function visa(n: number): string {
  const body = `411111111${String(n).padStart(6, '0')}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return body + String((10 - (sum % 10)) % 10);
}

test('a valid saved card is listed although the holder saved 50 cards since that have now expired', async () => {
  const holder = 'crowded-by-expired';
  const token0 = await tokenOf(gw);
  const save = (cardNumber: string, expiryMonth: string, expiryYear: string) => call(gw, 'POST', '/payment/instruments', { token: token0,
    body: { holderReference: holder, paymentMethod: 'card', storeInstrument: true, data: { cardNumber, expiryMonth, expiryYear, holderName: 'John Doe' } } });
  const good = await save('4111111111111111', '03', '2035');
  assert.equal(good.status, 201, JSON.stringify(good.body));
  const now = new Date();
  const month = String(now.getUTCMonth() + 1).padStart(2, '0'), year = String(now.getUTCFullYear());
  for (let i = 0; i < 50; i++) {
    const r = await save(visa(i + 1), month, year);
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  offset = 40 * 86_400_000;
  const token = await tokenOf(gw);
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference: holder, workflowCode: 'payment-acceptance' } });
  const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
  const list = await (await fetch(data.links.instruments.href, { headers: { authorization: `Bearer ${data.token}` } })).json() as { results: { id: string }[] };
  assert.deepEqual(list.results.map((i) => i.id), [good.body.id], 'the valid saved card vanished behind 50 expired ones');
});
