/**
 * A write that answers 5xx has changed nothing, so the idempotency key it frees lets the merchant's
 * retry do the work once: deleting an instrument drops its held security code before the deletion
 * commits with the key's answer, never after it (a failure there used to lose a committed deletion's
 * answer, and the retry then answered 404).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { call, instrument, tokenOf } from './support/executions.ts';

const skip = (await postgresAvailable()) ? undefined : 'no PostgreSQL';

describe('a 5xx changed nothing; the retry with its key does the work once (PostgreSQL)', { skip }, () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway({ store: 'postgres' }); token = await tokenOf(gw); });
  after(() => gw.close());

  test('DELETE /payment/instruments/:id retried with its key after a 500 gets the first (successful) answer, not 404', async () => {
    const db = gw.app.storage.db;
    const id = await instrument(gw, token);
    // Dropping the held security code fails, as a lost connection would.
    await sql`CREATE OR REPLACE FUNCTION refuse_drop() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'connection lost'; END $$ LANGUAGE plpgsql`.execute(db);
    await sql`CREATE TRIGGER refuse_drop BEFORE DELETE ON cvv_holds FOR EACH STATEMENT EXECUTE FUNCTION refuse_drop()`.execute(db);
    const key = randomUUID();
    let first;
    try { first = await call(gw, 'DELETE', `/payment/instruments/${id}`, { token, key }); } finally { await sql`DROP TRIGGER refuse_drop ON cvv_holds`.execute(db); }
    assert.equal(first.status, 500, JSON.stringify(first.body));
    const statusOf = async () => (await db.selectFrom('instruments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
    assert.notEqual(await statusOf(), 'deleted', 'a 5xx deleted nothing');
    // The merchant retries with the same key, as it should after a 5xx.
    const retry = await call(gw, 'DELETE', `/payment/instruments/${id}`, { token, key });
    assert.equal(retry.status, 200, `retry with the same key answered ${retry.status} ${JSON.stringify(retry.body)}`);
    assert.deepEqual(retry.body, { success: true });
    assert.equal(await statusOf(), 'deleted');
    const replay = await call(gw, 'DELETE', `/payment/instruments/${id}`, { token, key });
    assert.deepEqual([replay.status, replay.body], [200, { success: true }], 'the key answers as the deletion did');
  });
});
