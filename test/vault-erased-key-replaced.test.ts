/**
 * An erased card's number is blanked, and so is the data key that sealed it: a decoy key, wrapped
 * as any other, takes its place. The key was kept, so a copy of the old ciphertext (a page SQLite
 * had not overwritten yet, found in the data folder's files; an old PostgreSQL row version; a
 * backup) put back into the row opened with it, and the number came back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, startGateway, testCard } from './support/harness.ts';

test('an erased card\'s old ciphertext, put back into its row, opens with nothing the store keeps', async () => {
  const clock = manualClock(Date.UTC(2026, 11, 1, 12));
  const gw = await startGateway({ clock });
  try {
    const reg = await opp(gw, 'POST', '/v1/registrations', { ...testCard, 'card.number': '4111111111111111' });
    assert.equal(reg.body.result.code, '000.100.110', JSON.stringify(reg.body.result));
    const cardId = (await gw.app.storage.db.selectFrom('instruments').select('card_id').where('id', '=', reg.body.id).executeTakeFirstOrThrow()).card_id;
    const before = await gw.app.storage.db.selectFrom('cards').select(['pan_ciphertext', 'wrapped_key']).where('id', '=', cardId).executeTakeFirstOrThrow();
    assert.equal((await opp(gw, 'DELETE', `/v1/registrations/${reg.body.id}`)).body.result.code, '000.100.110');
    clock.advance(3_600_000 + 1000);
    await gw.app.jobs.runDue();
    const after = await gw.app.storage.db.selectFrom('cards').select(['pan_ciphertext', 'wrapped_key', 'erased_at']).where('id', '=', cardId).executeTakeFirstOrThrow();
    assert.ok(after.erased_at !== null, 'the card was erased by the job');
    assert.equal(after.pan_ciphertext, '');
    assert.notEqual(after.wrapped_key, before.wrapped_key, 'the data key that sealed the number is gone');
    // Someone holding an old copy of the ciphertext puts it back.
    await gw.app.storage.db.updateTable('cards').set({ pan_ciphertext: before.pan_ciphertext, erased_at: null }).where('id', '=', cardId).execute();
    const reopened = await gw.app.vault.open(cardId).catch(() => undefined);
    assert.equal(reopened?.pan.reveal(), undefined, 'the old ciphertext opened with the key the row kept: the erased number is recovered');
    // A rotation that does not skip erased cards (an older release's, during a rolling upgrade)
    // re-wraps the decoy as any card's key: a blank key would stop it at this card for good.
    await gw.app.storage.db.updateTable('cards').set({ pan_ciphertext: '' }).where('id', '=', cardId).execute();
    const { version } = await gw.app.vault.rotate();
    assert.ok(await gw.app.vault.rewrapAll() >= 1);
    const rewrapped = await gw.app.storage.db.selectFrom('cards').select('key_version').where('id', '=', cardId).executeTakeFirstOrThrow();
    assert.equal(rewrapped.key_version, version, 'the decoy was re-wrapped under the new version');
  } finally {
    await gw.close();
  }
});
