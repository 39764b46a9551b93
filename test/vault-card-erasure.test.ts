/**
 * A card no instrument may charge any more is erased: once every /v1 registration or executions
 * instrument of it is deleted (a one-time instrument is, by the authorization that spends it), the
 * `erase-deleted-cards` job blanks its number's ciphertext, so no key recovers the number (the data
 * key that sealed it stays wrapped, opening nothing). What is shown of it stays (masked card, fingerprint) for the payments made
 * with it; a card still charged by a payment that is open (at its 3-D Secure challenge), by an
 * instrument not deleted, or by a payment of its own (a rebill may charge it) is kept. A key
 * rotation afterwards has nothing of an erased card to re-wrap, and counts only the cards it keeps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, postgresAvailable, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizedExecution, call, tokenOf } from './support/executions.ts';

const pgUp = await postgresAvailable();
const hour = 3_600_000;

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`erasing the cards of deleted instruments (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    const clock = manualClock(Date.UTC(2026, 11, 1, 12));
    let gw: Gateway;
    // The shopper's page stays open for hours here, so the hourly job meets a payment still waiting.
    before(async () => { gw = await startGateway({ clock, store, env: { SWITCHYARD_ASYNC_TIMEOUT_MS: String(24 * hour) } }); });
    after(async () => { await gw.close(); });

    const cardRow = (id: string) => gw.app.storage.db.selectFrom('cards').select(['wrapped_key', 'pan_ciphertext', 'erased_at', 'last4']).where('id', '=', id).executeTakeFirstOrThrow();
    const cardOfPayment = async (paymentId: string) => (await gw.app.storage.db.selectFrom('payments').select('card_id').where('id', '=', paymentId).executeTakeFirstOrThrow()).card_id!;
    const cardOfInstrument = async (id: string) => (await gw.app.storage.db.selectFrom('instruments').select('card_id').where('id', '=', id).executeTakeFirstOrThrow()).card_id;
    const erasurePass = async () => {
      clock.advance(hour + 1000);
      const runs = await gw.app.jobs.runDue();
      assert.ok(runs.some((r) => r.name === 'erase-deleted-cards'), 'the job is registered and due');
    };
    const assertErased = async (cardId: string, what: string) => {
      const row = await cardRow(cardId);
      assert.equal(row.pan_ciphertext, '', `${what}: the ciphertext is gone`);
      // Its data key stays wrapped (an older release's key rotation re-wraps it): it opens nothing.
      assert.notEqual(row.wrapped_key, '', `${what}: the data key stays wrapped`);
      assert.ok(row.erased_at !== null, `${what}: marked erased`);
      assert.equal(await gw.app.vault.open(cardId), undefined, `${what}: it cannot be opened`);
      assert.equal((await gw.app.vault.masked(cardId))?.last4, row.last4, `${what}: its masked view stays`);
    };
    const assertKept = async (cardId: string, what: string) => {
      const row = await cardRow(cardId);
      assert.notEqual(row.pan_ciphertext, '', `${what}: kept`);
      assert.equal(row.erased_at, null, `${what}: not marked erased`);
      assert.ok(await gw.app.vault.open(cardId), `${what}: it still opens`);
    };

    test('a deleted /v1 registration\'s card is erased by the next pass; its payments still show the card, a rebill is refused as before, and a registration kept keeps its card', async () => {
      const reg = await opp(gw, 'POST', '/v1/registrations', testCard);
      const kept = await opp(gw, 'POST', '/v1/registrations', testCard);
      const db = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '25.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
      assert.equal(db.body.result.code, '000.100.110', JSON.stringify(db.body.result));
      const withCard = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB', createRegistration: 'true' });
      const plain = await opp(gw, 'POST', '/v1/payments', { ...testCard, amount: '10.00', currency: 'EUR', paymentType: 'DB' });
      assert.equal((await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`)).body.result.code, '000.100.110');
      assert.equal((await opp(gw, 'DELETE', `/v1/registrations/${withCard.body.registrationId}`)).body.result.code, '000.100.110');
      await erasurePass();

      await assertErased(await cardOfPayment(db.body.id), 'the deleted registration\'s card');
      await assertErased(await cardOfPayment(withCard.body.id), 'the card a payment registered, its registration deleted');
      await assertKept(await cardOfInstrument(kept.body.id), 'a registration not deleted');
      await assertKept(await cardOfPayment(plain.body.id), 'a payment\'s own card (no registration)');

      const shown = await opp(gw, 'GET', `/v1/query/${db.body.id}`);
      assert.equal(shown.body.card.last4Digits, testCard['card.number'].slice(-4), 'the payment still shows its card');
      const rb = await opp(gw, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RB', amount: '25.00', currency: 'EUR' });
      assert.equal(rb.body.result.code, '100.150.202', JSON.stringify(rb.body.result));
      const rbPlain = await opp(gw, 'POST', `/v1/payments/${plain.body.id}`, { paymentType: 'RB', amount: '10.00', currency: 'EUR' });
      assert.equal(rbPlain.body.result.code, '000.100.110', 'a payment\'s own card is rebilled as before');
      const viaKept = await opp(gw, 'POST', `/v1/registrations/${kept.body.id}/payments`, { amount: '5.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
      assert.equal(viaKept.body.result.code, '000.100.110', 'the kept registration still pays');
    });

    test('a card is kept while a payment with it waits at its 3-D Secure challenge, and erased once that payment ended', async () => {
      const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, 'card.number': '4200000000000042' });
      const p = await opp(gw, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '15.00', currency: 'EUR', paymentType: 'DB', shopperResultUrl: 'https://shop.example/return' });
      assert.equal(p.body.result.code, '000.200.000', 'pending: the shopper is at the challenge');
      assert.equal((await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`)).body.result.code, '000.100.110');
      const cardId = await cardOfPayment(p.body.id);
      await erasurePass();
      await assertKept(cardId, 'the card of a payment still open');
      await gw.app.payments.completeChallenge(p.body.id, 'completed');
      assert.equal((await opp(gw, 'GET', `/v1/query/${p.body.id}`)).body.result.code, '100.150.202');
      await erasurePass();
      await assertErased(cardId, 'once the payment ended');
    });

    test('executions: a deleted saved instrument\'s card and a spent one-time instrument\'s card are erased; a saved one in use is kept; a key rotation after skips the erased ones', async () => {
      const token = await tokenOf(gw);
      const saved = await call(gw, 'POST', '/payment/instruments', {
        token, body: { holderReference: 'erasure-1', paymentMethod: 'card', storeInstrument: true, data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' } },
      });
      assert.equal(saved.status, 201, JSON.stringify(saved.body));
      const kept = await call(gw, 'POST', '/payment/instruments', {
        token, body: { holderReference: 'erasure-2', paymentMethod: 'card', storeInstrument: true, data: { cardNumber: '5555555555554444', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' } },
      });
      assert.equal(kept.status, 201, JSON.stringify(kept.body));
      const keptSaved: string = kept.body.id;
      const { paymentId } = await authorizedExecution(gw, token, 'erasure-3', '4111111111111111', '12.00');
      const removed = await call(gw, 'DELETE', `/payment/instruments/${saved.body.id}`, { token });
      assert.ok(removed.status < 300, JSON.stringify(removed.body));
      const before = await gw.app.vault.keyStatus();
      await erasurePass();

      await assertErased(await cardOfInstrument(saved.body.id), 'a deleted saved instrument');
      await assertErased(await cardOfPayment(paymentId), 'a one-time instrument its authorization spent');
      await assertKept(await cardOfInstrument(keptSaved), 'a saved instrument not deleted');

      await gw.app.vault.rotate();
      await gw.app.vault.rewrapAll();
      const status = await gw.app.vault.keyStatus();
      const oldCards = status.versions.filter((v) => v.version < status.current).reduce((n, v) => n + v.cards, 0);
      assert.equal(oldCards, 0, 'every card kept moved to the new key; erased ones are not counted');
      assert.ok(before.versions.reduce((n, v) => n + v.cards, 0) > status.versions.reduce((n, v) => n + v.cards, 0), 'erased cards leave the count');
      await assertKept(await cardOfInstrument(keptSaved), 'a kept card after the rotation');
    });
  });
}
