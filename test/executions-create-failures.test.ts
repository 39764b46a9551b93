/**
 * The executions dialect's creates whose answer commits with them, when something around that
 * commit fails: the key is freed for a retry, and no answer is kept for an instrument without its code.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { call, tokenOf, wf } from './support/executions.ts';

const skip = (await postgresAvailable()) ? undefined : 'no PostgreSQL';

describe('executions creates whose unit of work or what follows it fails (PostgreSQL)', { skip }, () => {
  let gw: Gateway;
  let token: string;
  before(async () => { gw = await startGateway({ store: 'postgres' }); token = await tokenOf(gw); });
  after(() => gw.close());

  test('an instrument whose security code could not be held is not answered 201 to the retry without it', async () => {
    const db = gw.app.storage.db;
    // The CVV hold (a second unit of work, after the instrument's commit) fails, as a dropped connection would.
    await sql`CREATE OR REPLACE FUNCTION refuse_hold() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'connection lost'; END $$ LANGUAGE plpgsql`.execute(db);
    await sql`CREATE TRIGGER refuse_hold BEFORE INSERT ON cvv_holds FOR EACH ROW EXECUTE FUNCTION refuse_hold()`.execute(db);
    const key = randomUUID();
    const body = { holderReference: 'c-cvv', paymentMethod: 'card', data: { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' } };
    let first;
    try { first = await call(gw, 'POST', '/payment/instruments', { token, key, body }); } finally { await sql`DROP TRIGGER refuse_hold ON cvv_holds`.execute(db); }
    assert.equal(first.status, 500, 'the first attempt failed');
    // The merchant retries with the same key, as the reference says to after an error.
    const retry = await call(gw, 'POST', '/payment/instruments', { token, key, body });
    assert.equal(retry.status, 201);
    const held = await gw.app.storage.db.selectFrom('cvv_holds').select('key').execute();
    const shown = await call(gw, 'GET', `/payment/instruments/${retry.body.id}`, { token });
    assert.ok(held.length > 0,
      `the retry got ${retry.status} (idempotent-replayed: ${retry.headers.get('idempotent-replayed')}) for instrument ${retry.body.id} whose security code is held nowhere (GET shows securityCodeHeld=${shown.body.securityCodeHeld}); before  the key was freed and the retry stored the card with its code`);
  });

  test('a create whose unit of work fails leaves its key free, and the retry creates it once', async () => {
    const db = gw.app.storage.db;
    await sql`CREATE OR REPLACE FUNCTION refuse_outbox() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql`.execute(db);
    const tables = (await sql<{ t: string }>`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'outbox%'`.execute(db)).rows.map((r) => r.t);
    assert.ok(tables.includes('outbox'), `outbox tables: ${tables}`);
    await sql`CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox()`.execute(db);
    const key = randomUUID();
    const body = { merchantReference: `uow-${randomUUID().slice(0, 8)}`, workspaceId: gw.merchant.workspaceId, meta: {} };
    let first;
    try { first = await call(gw, 'POST', wf, { token, key, body }); } finally { await sql`DROP TRIGGER refuse_outbox ON outbox`.execute(db); }
    assert.equal(first.status, 500);
    const row = await db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).executeTakeFirst();
    assert.equal(row, undefined, `key left ${JSON.stringify(row)}`);
    const retry = await call(gw, 'POST', wf, { token, key, body });
    assert.equal(retry.status, 201);
    const again = await call(gw, 'POST', wf, { token, key, body });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, retry.body);
    const rows = await db.selectFrom('executions').select('id').where('merchant_reference', '=', body.merchantReference).execute();
    assert.equal(rows.length, 1);
  });
});
