/**
 * Migration 108 releases, once, the cards renewals left behind before migration 107 could mark
 * them: the card a registration held before it was renewed (no instrument references it, and no
 * payment but the registration's own), which the erasure job then erases. A card a payment was
 * made with directly stays (a rebill of that payment charges it), as does every card an instrument
 * still references.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard, type Gateway } from './support/harness.ts';
import { releasedCardsBackfill } from '../src/storage/migrations/108_released_cards_backfill.ts';

const clock = manualClock(Date.UTC(2026, 11, 1, 12));
let gw: Gateway;
before(async () => { gw = await startGateway({ clock }); });
after(() => gw.close());

test('a registration renewed before the upgrade: its card before is released by the migration and erased; a direct payment\'s card and a registration\'s own stay', async () => {
  const db = gw.app.storage.db;
  const cardOf = async (instrumentId: string) => (await db.selectFrom('instruments').select('card_id').where('id', '=', instrumentId).executeTakeFirstOrThrow()).card_id;
  const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
  const paid = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
  assert.equal(paid.body.result.code, '000.100.110');
  const before = await cardOf(reg.body.id);
  const renewed = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'card.expiryMonth': '06', 'card.expiryYear': '2035', 'standingInstruction.source': 'MIT' });
  assert.equal(renewed.body.result.code, '000.100.110', JSON.stringify(renewed.body.result));
  const now = await cardOf(reg.body.id);
  assert.notEqual(now, before);
  const direct = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '9.00', currency: 'EUR', paymentType: 'DB' });
  const directCard = (await db.selectFrom('payments').select('card_id').where('id', '=', direct.body.id).executeTakeFirstOrThrow()).card_id!;
  // As an older release left it: the renewal marked nothing.
  await db.updateTable('cards').set({ released_at: null }).execute();
  await releasedCardsBackfill.up(db as never);
  const released = async (id: string) => (await db.selectFrom('cards').select('released_at').where('id', '=', id).executeTakeFirstOrThrow()).released_at !== null;
  assert.equal(await released(before), true, 'the card before the renewal');
  assert.equal(await released(now), false, 'the registration\'s own card');
  assert.equal(await released(directCard), false, 'a direct payment\'s card (a rebill charges it)');
  clock.advance(3_600_000 + 1000);
  assert.ok((await gw.app.jobs.runDue()).some((r) => r.name === 'erase-deleted-cards'));
  assert.equal(await gw.app.vault.open(before), undefined, 'erased by the job');
  assert.ok(await gw.app.vault.open(directCard), 'kept');
});
