/**
 * The per-holder tokenization limit of the browser endpoints: listing saved cards counts apart (the
 * SDK lists them whenever it renders, which used up the holder's tokenizations), and a tokenization
 * refused 503 because its count could not be made frees its idempotency key for the retry the
 * answer asks for (it was held "in progress" for five minutes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PayrailsCSE } from '@payrails/web-cse';
import { postgresAvailable, startGateway, testPostgresUrl, type Gateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

const card = { cardNumber: '4111111111111111', expiryMonth: '03', expiryYear: '30', holderName: 'John Doe' };

async function browserSide(gw: Gateway, holderReference: string) {
  const token = await tokenOf(gw);
  const init = await call(gw, 'POST', '/merchant/client/init', { token, body: { type: 'tokenization', holderReference, workflowCode: 'payment-acceptance' } });
  assert.equal(init.status, 200, JSON.stringify(init.body));
  const data = JSON.parse(Buffer.from(init.body.data, 'base64').toString('latin1'));
  const jwe = await PayrailsCSE.init(init.body).encryptCardData({ card, data: { holderReference } });
  const tokenize = (key: string) => fetch(`${gw.url}/public/payment/instruments/tokenize`, {
    method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json', 'x-idempotency-key': key },
    body: JSON.stringify({ encryptedInstrumentDetails: jwe, id: data.tokenization.id }),
  }).then(async (r) => ({ status: r.status, body: await r.json() as Record<string, unknown>, retryAfter: r.headers.get('retry-after') }));
  const list = () => fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${data.token}` } }).then((r) => r.status);
  return { data, tokenize, list };
}

describe('tokenization limit (SQLite)', () => {
  let gw: Gateway;
  before(async () => { gw = await startGateway(); });
  after(async () => { await gw?.close(); });

  test('listing the holder\'s saved cards is not a tokenization: it does not use up the documented 30 tokenizations a minute', async () => {
    const side = await browserSide(gw, 'holder-lists-often');
    for (let i = 0; i < 30; i++) assert.equal(await side.list(), 200, `saved-cards list ${i + 1}`);
    const first = await side.tokenize(randomUUID());
    assert.equal(first.status, 201, `the holder's first tokenization of the minute was refused after 30 saved-card listings: ${JSON.stringify(first.body)}`);
    // Listing has a limit of its own.
    assert.equal(await side.list(), 429);
  });
});

const skip = (await postgresAvailable()) ? undefined : 'PostgreSQL unreachable';

describe('tokenization limit whose store cannot answer (PostgreSQL, unit deadline 2 s)', { skip }, () => {
  let gw: Gateway;
  let operator: pg.Client;
  before(async () => {
    gw = await startGateway({ store: 'postgres', env: { SWITCHYARD_UNIT_DEADLINE_MS: '2000', SWITCHYARD_PG_STATEMENT_DEADLINE_MS: '1000' } });
    operator = new pg.Client({ connectionString: testPostgresUrl });
    await operator.connect();
  });
  after(async () => {
    await operator?.end().catch(() => {});
    await gw?.close();
  });

  test('a tokenize refused 503 because the rate limit could not be counted may be sent again under its idempotency key', async () => {
    const holder = 'holder-count-locked';
    const side = await browserSide(gw, holder);
    // The limit's row lock is busy elsewhere (another client, a stalled node): counting waits past the unit deadline.
    const lockKey = `tokenize:${side.data.sdk.merchantId}:${holder}`;
    await operator.query('select pg_advisory_lock(hashtext($1))', [lockKey]);
    const key = randomUUID();
    let first;
    try {
      first = await side.tokenize(key);
    } finally {
      await operator.query('select pg_advisory_unlock(hashtext($1))', [lockKey]);
    }
    assert.equal(first.status, 503, JSON.stringify(first.body));
    assert.match(JSON.stringify(first.body), /send the request again/);
    // The answer told the browser to send it again; the key must be free for that (as every other
    // 503 of the dialect frees it), not held as "in progress" until its 5-minute takeover.
    const again = await side.tokenize(key);
    assert.equal(again.status, 201, `the retry the 503 asked for was refused: ${again.status} ${JSON.stringify(again.body)}`);
  });
});
