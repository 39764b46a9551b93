import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { startGateway } from './support/harness.ts';
import { call, tokenOf } from './support/executions.ts';

/**
 * client/init answers a browser credential: the client token (tokenize cards for the holder, list
 * the holder's saved instruments), good for 15 minutes. The answer kept under the request's
 * idempotency key held it, so the token sat in plain text (base64 of JSON) in a database column, and
 * in every dump and backup of it, for the key's two days; and a replay handed back that very token,
 * even once it had expired or a rotation of the merchant's credentials had ended it. The kept answer
 * now leaves the token out, and a replay is the kept answer with a token issued then.
 */
test('client/init: the client token is not kept in plain text in the database, and a replay never hands back a token the gateway refuses', async () => {
  const gw = await startGateway();
  try {
    const token = await tokenOf(gw);
    const key = randomUUID();
    const init = await call(gw, 'POST', '/merchant/client/init', { token, key, body: { holderReference: 'holder-1' } });
    assert.equal(init.status, 200);
    const clientToken = JSON.parse(Buffer.from(init.body.data, 'base64').toString('utf8')).token as string;
    assert.ok(clientToken.length > 20);

    // Every table, every column: neither the token nor its base64 form (the answer's `data`) is at rest.
    const db = gw.app.storage.uow.db as any;
    const tables = (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows.map((r) => r.name);
    const holding: string[] = [];
    for (const t of tables) {
      const dump = JSON.stringify((await sql.raw(`select * from "${t}"`).execute(db)).rows);
      if (dump.includes(clientToken) || dump.includes(init.body.data)) holding.push(t);
    }
    assert.deepEqual(holding, [], `the client token is stored in plain text in ${holding.join(', ')}`);

    // The merchant rotates its executions credentials; its backend retries the same init with its new token.
    const rotated = await gw.app.merchants.rotate(gw.merchant.merchantId, ['executions']);
    assert.ok(rotated?.apiKey);
    const fresh = await tokenOf({ url: gw.url, merchant: { ...gw.merchant, apiKey: rotated.apiKey } });
    const again = await call(gw, 'POST', '/merchant/client/init', { token: fresh, key, body: { holderReference: 'holder-1' } });
    if (again.status === 200) {
      const replayed = JSON.parse(Buffer.from(again.body.data, 'base64').toString('utf8')).token as string;
      const list = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${replayed}` } });
      assert.equal(list.status, 200, 'the client token a replayed client/init answered is refused by the gateway');
    }
  } finally {
    await gw.close();
  }
});

test('client/init replayed: the kept answer with a fresh working token; the execution it described is not made twice', async () => {
  const gw = await startGateway();
  try {
    const token = await tokenOf(gw);
    const key = randomUUID();
    const body = { holderReference: 'holder-2', merchantReference: 'order-init-replay', amount: { value: '10.00', currency: 'EUR' } };
    const decode = (r: { body: { data: string } }) => JSON.parse(Buffer.from(r.body.data, 'base64').toString('utf8'));
    const first = await call(gw, 'POST', '/merchant/client/init', { token, key, body });
    assert.equal(first.status, 200);
    const again = await call(gw, 'POST', '/merchant/client/init', { token, key, body });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.headers.get('cache-control'), 'no-store');
    const [a, b] = [decode(first), decode(again)];
    assert.equal(b.execution.id, a.execution.id, 'one execution');
    assert.equal(b.vaultConfiguration.token, b.token);
    assert.equal(b.holderReference, 'holder-2');
    assert.deepEqual(b.tokenization, a.tokenization);
    const list = await fetch(`${gw.url}/public/payment/instruments`, { headers: { authorization: `Bearer ${b.token}` } });
    assert.equal(list.status, 200, 'the replay\'s token works');
    const listed = await call(gw, 'GET', '/merchant/workflows/payment-acceptance/executions?filter[merchantReference]=order-init-replay', { token });
    assert.equal(listed.body.results.length, 1);
  } finally {
    await gw.close();
  }
});
