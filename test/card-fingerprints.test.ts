import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresAvailable, startGateway } from './support/harness.ts';
import { call, instrument, tokenOf } from './support/executions.ts';
import { createVaultService } from '../src/vault/service.ts';
import { createVaultStore } from '../src/vault/kysely-store.ts';
import { loadMasterKey } from '../src/vault/keyring.ts';
import { deriveKey, fingerprint } from '../src/runtime/crypto.ts';
import { systemClock } from '../src/runtime/clock.ts';
import { randomIds } from '../src/runtime/ids.ts';

const pan = '4111111111111111';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`card fingerprints are per merchant (${store})`, () => {
    test('the same card at two merchants has unrelated fingerprints; at one merchant the fingerprint finds it again', async (t) => {
      if (store === 'postgres' && !(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
      const gw = await startGateway({ store });
      try {
        const other = await gw.app.merchants.create({ name: 'Other Merchant' });
        const a = { url: gw.url, merchant: gw.merchant };
        const b = { url: gw.url, merchant: other };
        const tokenA = await tokenOf(a);
        const tokenB = await tokenOf(b);
        const a1 = await call(a, 'GET', `/payment/instruments/${await instrument(a, tokenA, pan, 'holder-1')}`, { token: tokenA });
        const a2 = await call(a, 'GET', `/payment/instruments/${await instrument(a, tokenA, pan, 'holder-2')}`, { token: tokenA });
        const aOther = await call(a, 'GET', `/payment/instruments/${await instrument(a, tokenA, '4242424242424242', 'holder-1')}`, { token: tokenA });
        const b1 = await call(b, 'GET', `/payment/instruments/${await instrument(b, tokenB, pan, 'holder-1')}`, { token: tokenB });
        assert.match(a1.body.fingerprint, /^[0-9a-f]{64}$/);
        assert.equal(a1.body.fingerprint, a2.body.fingerprint, 'one merchant, one card: one fingerprint');
        assert.notEqual(a1.body.fingerprint, aOther.body.fingerprint, 'another card, another fingerprint');
        assert.notEqual(a1.body.fingerprint, b1.body.fingerprint, 'another merchant, another fingerprint');
        // Not the merchant-independent keyed hash either, which would correlate the two merchants' cards.
        const masterKey = loadMasterKey({ configured: undefined, dataDir: gw.dataDir });
        const global = fingerprint(deriveKey(masterKey.key, 'card-fingerprint'), pan);
        assert.ok(![a1.body.fingerprint, b1.body.fingerprint].includes(global));
        // Cards are found by (merchant, fingerprint) within one merchant only.
        const rows = await gw.app.storage.db.selectFrom('cards').select(['id']).where('merchant_id', '=', gw.merchant.merchantId)
          .where('fingerprint', '=', a1.body.fingerprint).execute();
        assert.equal(rows.length, 2);
        const foreign = await gw.app.storage.db.selectFrom('cards').select(['id']).where('merchant_id', '=', other.merchantId)
          .where('fingerprint', '=', a1.body.fingerprint).execute();
        assert.equal(foreign.length, 0);
      } finally {
        await gw.close();
      }
    });

    test('a card stored with an older, merchant-independent fingerprint is re-derived at start and matches new ones', async (t) => {
      if (store === 'postgres' && !(await postgresAvailable())) { t.skip('PostgreSQL unreachable'); return; }
      const gw = await startGateway({ store });
      try {
        const a = { url: gw.url, merchant: gw.merchant };
        const tokenA = await tokenOf(a);
        const fresh = await call(a, 'GET', `/payment/instruments/${await instrument(a, tokenA, pan)}`, { token: tokenA });
        const masterKey = loadMasterKey({ configured: undefined, dataDir: gw.dataDir });
        const db = gw.app.storage.db;
        // What a card stored by an earlier version looks like: the merchant-independent fingerprint, scope 0.
        const legacy = fingerprint(deriveKey(masterKey.key, 'card-fingerprint'), pan);
        const oldCard = await db.selectFrom('cards').selectAll().where('merchant_id', '=', gw.merchant.merchantId).executeTakeFirstOrThrow();
        await db.insertInto('cards').values({ ...oldCard, id: 'f'.repeat(32), fingerprint: legacy, fingerprint_scope: 0 }).execute();
        await createVaultService({ store: createVaultStore(gw.app.storage.uow), clock: systemClock, ids: randomIds, masterKey });
        const upgraded = await db.selectFrom('cards').select(['fingerprint', 'fingerprint_scope']).where('id', '=', 'f'.repeat(32)).executeTakeFirstOrThrow();
        assert.equal(upgraded.fingerprint_scope, 1);
        assert.equal(upgraded.fingerprint, fresh.body.fingerprint);
        const left = await db.selectFrom('cards').select(['id']).where('fingerprint_scope', '=', 0).execute();
        assert.equal(left.length, 0);
      } finally {
        await gw.close();
      }
    });
  });
}
