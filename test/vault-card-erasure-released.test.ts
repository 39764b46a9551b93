/**
 * The erasure of card numbers reaches every card no instrument charges any more: the card a
 * registration held before it was renewed with a reissued card's expiry (the same number, sealed
 * again), once no payment with it is open, whether or not the registration is deleted later; and a
 * one-time instrument that lapsed unused (shown deleted) has its card erased as a spent one's is.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

const hour = 3_600_000;

describe('cards released by a renewal, and one-time instruments that lapsed', () => {
  const clock = manualClock(Date.UTC(2026, 11, 1, 12));
  let gw: Gateway;
  before(async () => { gw = await startGateway({ clock }); });
  after(async () => { await gw.close(); });

  const cardRow = (id: string) => gw.app.storage.db.selectFrom('cards').select(['pan_ciphertext', 'erased_at']).where('id', '=', id).executeTakeFirstOrThrow();
  const cardOfPayment = async (paymentId: string) => (await gw.app.storage.db.selectFrom('payments').select('card_id').where('id', '=', paymentId).executeTakeFirstOrThrow()).card_id!;
  const cardOfInstrument = async (id: string) => (await gw.app.storage.db.selectFrom('instruments').select('card_id').where('id', '=', id).executeTakeFirstOrThrow()).card_id;
  const erasurePass = async () => {
    clock.advance(hour + 1000);
    const runs = await gw.app.jobs.runDue();
    assert.ok(runs.some((r) => r.name === 'erase-deleted-cards'));
  };

  test('a registration renewed (new expiry) then deleted: the card it held before the renewal is erased too', async () => {
    const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
    const before = await cardOfInstrument(reg.body.id);
    const renewed = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'card.expiryMonth': '06', 'card.expiryYear': '2035', 'standingInstruction.source': 'MIT' });
    assert.equal(renewed.body.result.code, '000.100.110', JSON.stringify(renewed.body.result));
    const nowHeld = await cardOfInstrument(reg.body.id);
    assert.notEqual(nowHeld, before, 'the renewal moved the registration to a new card row');
    assert.equal((await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`)).body.result.code, '000.100.110');
    await erasurePass();
    assert.equal((await cardRow(nowHeld)).pan_ciphertext, '', 'the renewed card is erased');
    const old = await cardRow(before);
    assert.equal(old.pan_ciphertext, '', 'the same card number, sealed before the renewal, is erased too');
    assert.notEqual(old.erased_at, null);
  });

  test('a one-time executions instrument that expired unused (shown deleted) has its card erased', async () => {
    const token = await tokenOf(gw);
    const r = await call(gw, 'POST', '/payment/instruments', {
      token, body: { holderReference: 'erasure-ttl', paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' } },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const cardId = await cardOfInstrument(r.body.id);
    clock.advance(2 * hour); // well past the 30-minute TTL
    const shown = await call(gw, 'GET', `/payment/instruments/${r.body.id}`, { token: await tokenOf(gw) });
    assert.equal(shown.body?.status ?? shown.body?.data?.status, 'deleted', `shown as deleted: ${JSON.stringify(shown.body)}`);
    await erasurePass();
    await erasurePass();
    assert.equal((await cardRow(cardId)).pan_ciphertext, '', 'a lapsed one-time instrument\'s card number is erased');
  });
});

describe('a renewal without a deletion', () => {
  const clock = manualClock(Date.UTC(2026, 11, 1, 12));
  let gw: Gateway;
  before(async () => { gw = await startGateway({ clock }); });
  after(async () => { await gw.close(); });

  test('the card a renewed registration held before is erased by the next pass; the registration pays on with its new one', async () => {
    const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
    const before = (await gw.app.storage.db.selectFrom('instruments').select('card_id').where('id', '=', reg.body.id).executeTakeFirstOrThrow()).card_id;
    const renewed = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'card.expiryMonth': '06', 'card.expiryYear': '2035', 'standingInstruction.source': 'MIT' });
    assert.equal(renewed.body.result.code, '000.100.110', JSON.stringify(renewed.body.result));
    clock.advance(hour + 1000);
    assert.ok((await gw.app.jobs.runDue()).some((r) => r.name === 'erase-deleted-cards'));
    assert.equal(await gw.app.vault.open(before), undefined, 'the card before the renewal is erased');
    const again = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '6.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
    assert.equal(again.body.result.code, '000.100.110', 'the registration still pays with its renewed card');
  });
});
