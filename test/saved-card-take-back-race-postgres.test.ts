/**
 * A saved card is taken back (deleteUnless) only when no other payment has charged it, on
 * PostgreSQL too, with nodes racing: an authorization on one node holds the saved instrument
 * (holdEnabled, FOR UPDATE) and records its payment with the card, while another node ends the
 * first payment and takes the card back. In one UPDATE … WHERE NOT EXISTS, the condition was judged
 * on the snapshot taken before the wait for the row, and the card the holder had just paid with was
 * deleted; the row is held first now, and the other payments read after it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { openStorage, type Storage } from '../src/storage/database.ts';
import { createMerchantStore } from '../src/merchants/kysely-store.ts';
import { createPaymentStore } from '../src/payments/kysely-store.ts';
import type { PaymentRecord } from '../src/payments/store.ts';
import { createInstrumentStore, vaultWriterOf } from '../src/vault/kysely-store.ts';
import type { StoredCard } from '../src/vault/store.ts';
import { postgresAvailable, testPostgresUrl } from './support/harness.ts';

const pgUp = await postgresAvailable();
const schema = `sy_take_back_race_${randomBytes(6).toString('hex')}`;
let storage: Storage;
const id = () => randomBytes(16).toString('hex');
let clock = Date.UTC(2025, 5, 1);
const now = () => (clock += 1000);

before(async () => { if (pgUp) storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema }); });
after(async () => {
  await storage?.close();
  if (!pgUp) return;
  const c = new pg.Client({ connectionString: testPostgresUrl });
  await c.connect();
  try { await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await c.end(); }
});

test('a payment committed while deleteUnless waits on the instrument lock keeps the instrument (PostgreSQL)', { skip: pgUp ? false : 'no PostgreSQL' }, async () => {
  const uow = storage.uow;
  const vw = vaultWriterOf(storage.db);
  const payments = createPaymentStore(uow);
  const instruments = createInstrumentStore(uow);
  const merchant = { id: id(), name: 'M', live: false, clientId: id(), workspaceId: id(), createdAt: now(), tokenGeneration: 1 };
  const entity = { id: id(), merchantId: merchant.id, channelName: 'web shop', uniqueMerchantTransactionId: false };
  await createMerchantStore(uow).insert({ merchant, entity, credentials: [] } as never);
  const card: StoredCard = {
    id: id(), merchantId: merchant.id, fingerprint: id(), keyVersion: 1, wrappedKey: randomBytes(60).toString('base64'),
    panCiphertext: randomBytes(44).toString('base64'), brand: 'VISA', bin: '42000000', last4: '0042', holder: 'Jane Jones',
    expiryMonth: '05', expiryYear: '2034', createdAt: now(),
  };
  const instrumentId = randomUUID();
  await uow.run(async (tx) => {
    await vw(tx).insertCard(card);
    await vw(tx).insertInstrument({ id: instrumentId, merchantId: merchant.id, cardId: card.id, holderReference: 'h', status: 'enabled', futureUsage: undefined, storeInstrument: true, entityId: undefined, createdAt: now(), updatedAt: now() });
  });
  const payment = (): PaymentRecord => {
    const at = now();
    return { id: id(), merchantId: merchant.id, channel: 'executions', entityId: undefined, initialKind: 'authorize', status: 'pending', amount: 1000, currency: 'EUR',
      cardId: card.id, method: 'card', live: false, pspAccountId: undefined, workflowCode: undefined, version: 1, createdAt: at, updatedAt: at } as PaymentRecord;
  };
  const first = payment();
  await uow.run((tx) => payments.writer(tx).insertPayment(first));

  // Node 1: the holder's second order, authorizing with the saved card: lock, then its payment.
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  let locked!: () => void;
  const holding = new Promise<void>((r) => { locked = r; });
  const second = payment();
  const authorizing = uow.run(async (tx) => {
    assert.equal(await vw(tx).holdEnabled(instrumentId), true);
    await payments.writer(tx).insertPayment(second);
    locked();
    await gate;
  });
  await holding;
  // Node 2: the first payment fails its challenge: deleteUnless, which waits on node 1's lock.
  const deleting = uow.run((tx) => vw(tx).deleteUnless(instrumentId, (cardId) => payments.writer(tx).chargedElsewhere(cardId, first.id), now()));
  const watch = new pg.Client({ connectionString: testPostgresUrl });
  await watch.connect();
  try {
    for (;;) {
      const r = await watch.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%"instruments"%'`);
      if (r.rows[0].n > 0) break;
      await new Promise((r2) => setTimeout(r2, 20));
    }
  } finally { await watch.end(); }
  release();
  await authorizing;
  const deleted = await deleting;
  assert.equal(deleted, undefined, 'the second payment charged the card: it is not taken back');
  assert.equal((await instruments.instrument(instrumentId))?.status, 'enabled');
});
