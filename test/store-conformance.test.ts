/**
 * Store conformance: the same assertions, through the store interfaces, against both adapters —
 * the embedded SQLite store and PostgreSQL (a throwaway schema per run, dropped afterwards).
 * The PostgreSQL half is skipped when no server answers; the test command fails under CI then.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { createChallengeStore } from '../src/threeds/kysely-store.ts';
import type { Challenge, ChallengeStore } from '../src/threeds/store.ts';
import { migrationNames, openStorage, type Storage } from '../src/storage/database.ts';
import { createWebhookStore } from '../src/webhooks/kysely-store.ts';
import type { DeliveryRecord, EndpointRecord, WebhookStore } from '../src/webhooks/store.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import { createMerchantStore } from '../src/merchants/kysely-store.ts';
import type { MerchantStore } from '../src/merchants/store.ts';
import type { CredentialKind, Entity, Merchant } from '../src/merchants/model.ts';
import { createVaultStore } from '../src/vault/kysely-store.ts';
import type { StoredCard, VaultStore } from '../src/vault/store.ts';
import { createPaymentStore } from '../src/payments/kysely-store.ts';
import type { PaymentRecord, PaymentStore, PaymentWriter, TransactionRecord } from '../src/payments/store.ts';
import type { TransactionStatus, TransactionType } from '../src/payments/model.ts';
import { isCurrency, type Currency } from '../src/money/money.ts';
import { createThrottleStore } from '../src/throttle/kysely-store.ts';
import type { ThrottleStore } from '../src/throttle/store.ts';
import { createExecutionStore, executionChannel } from '../src/executions/kysely-store.ts';
import type { ExecutionStore, ExecutionWriter } from '../src/executions/store.ts';
import type { ExecutionRecord } from '../src/executions/model.ts';
import { createIdempotencyStore } from '../src/idempotency/kysely-store.ts';
import { createIdempotency } from '../src/idempotency/service.ts';
import type { IdempotencyRow, IdempotencyStore } from '../src/idempotency/store.ts';
import { createCascadeStore } from '../src/payments/cascade-kysely-store.ts';
import type { CascadeAttemptRecord, CascadeStore } from '../src/payments/cascade.ts';
import { createWorkflowStore } from '../src/workflows/kysely-store.ts';
import type { PspAccount, WorkflowStore } from '../src/workflows/store.ts';
import { createInstrumentStore, createTokenizationKeyStore, vaultWriter } from '../src/vault/kysely-store.ts';
import type { InstrumentRecord, InstrumentStatus, InstrumentStore, TokenizationKeyStore, VaultWriter } from '../src/vault/store.ts';
import type { OutboxEvent } from '../src/webhooks/outbox.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { randomUUID } from 'node:crypto';
import { postgresAvailable, tempDir, testPostgresUrl } from './support/harness.ts';

/** A freshly opened, migrated store location, with a way to open it again and to remove it. */
interface Opened {
  readonly storage: Storage;
  /** Opens the same location again (same SQLite folder, same PostgreSQL schema), migrating again. */
  reopen(): Promise<Storage>;
  /** Removes the location (closes nothing: close every Storage first). */
  destroy(): Promise<void>;
}

const id = () => randomBytes(16).toString('hex');
const currency = (code: string): Currency => {
  assert.ok(isCurrency(code), `${code} is no currency`);
  return code;
};
const digest = () => randomBytes(32).toString('hex');
/** Far above 2^31 and any 32-bit integer type, still below 2^53. */
const bigMinor = 999_999_999_999_999;
/** A realistic epoch-millisecond timestamp, unique enough per call. */
let clock = Date.UTC(2025, 5, 1);
const now = () => (clock += 1000);

async function openSqliteLocation(): Promise<Opened> {
  const dataDir = tempDir('switchyard-conf-');
  const storage = await openStorage({ kind: 'sqlite', dataDir });
  return {
    storage,
    reopen: () => openStorage({ kind: 'sqlite', dataDir }),
    async destroy() { rmSync(dataDir, { recursive: true, force: true }); },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
}

async function openPostgresLocation(): Promise<Opened> {
  const schema = `sy_conf_${randomBytes(6).toString('hex')}`;
  let storage: Storage;
  try {
    storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
  } catch (error) {
    // openStorage creates the schema before migrating; do not leave it behind when migrating fails.
    await dropSchema(schema);
    throw error;
  }
  return {
    storage,
    reopen: () => openStorage({ kind: 'postgres', url: testPostgresUrl, schema }),
    destroy: () => dropSchema(schema),
  };
}

interface Fixture {
  merchant: Merchant;
  entity: Entity;
  credentials: { digest: string; kind: CredentialKind }[];
}

function newMerchant(overrides: Partial<Merchant> = {}): Fixture {
  const merchant: Merchant = {
    id: id(), name: `Merchant ${randomBytes(3).toString('hex')}`, live: false, clientId: id(), workspaceId: id(),
    createdAt: now(), ...overrides,
  };
  const entity: Entity = { id: id(), merchantId: merchant.id, channelName: 'web shop', uniqueMerchantTransactionId: false };
  return { merchant, entity, credentials: [{ digest: digest(), kind: 'opp_bearer' }, { digest: digest(), kind: 'api_key' }] };
}

function newPayment(f: Fixture, overrides: Partial<PaymentRecord> = {}): PaymentRecord {
  const at = now();
  return {
    id: id(), merchantId: f.merchant.id, entityId: f.entity.id, initialType: 'DB', status: 'pending',
    amount: 9200, currency: 'EUR', cardId: undefined, method: 'card', mode: 'test', version: 1, createdAt: at, updatedAt: at, ...overrides,
  };
}

/** Next position within each payment, so that fixtures respect the unique (payment_id, seq). */
const nextSeq = new Map<string, number>();

function newTransaction(p: PaymentRecord, overrides: Partial<TransactionRecord> = {}): TransactionRecord {
  const at = now();
  const seq = overrides.seq ?? nextSeq.get(p.id) ?? 0;
  nextSeq.set(p.id, Math.max(seq + 1, nextSeq.get(p.id) ?? 0));
  return {
    id: id(), paymentId: p.id, seq, merchantId: p.merchantId, entityId: p.entityId, type: p.initialType as TransactionType,
    status: 'pending', amount: { amount: p.amount, currency: currency(p.currency) }, referencedId: undefined, resultCode: undefined,
    pspReference: undefined, merchantTransactionId: undefined, shortId: randomBytes(7).toString('hex').slice(0, 14),
    echo: {}, details: {}, createdAt: at, updatedAt: at, ...overrides,
  };
}

function newCard(merchantId: string, overrides: Partial<StoredCard> = {}): StoredCard {
  return {
    id: id(), merchantId, fingerprint: digest(), keyVersion: 1, wrappedKey: randomBytes(60).toString('base64'),
    panCiphertext: randomBytes(44).toString('base64'), brand: 'VISA', bin: '42000000', last4: '0000', holder: 'Jane Jones',
    expiryMonth: '05', expiryYear: '2034', createdAt: now(), ...overrides,
  };
}

export interface ConformanceOptions {
  /** Skips the whole block, with this reason. */
  skip?: string;
}

export function conformance(name: string, open: () => Promise<Opened>, options: ConformanceOptions = {}): void {
  describe(name, options.skip ? { skip: options.skip } : {}, () => {
    let opened: Opened;
    let db: Storage['db'];
    let merchants: MerchantStore;
    let vault: VaultStore;
    let payments: PaymentStore;
    let throttle: ThrottleStore;
    let webhooks: WebhookStore;
    let challenges: ChallengeStore;
    let executions: ExecutionStore;
    let keys: IdempotencyStore;
    let cascades: CascadeStore;
    let workflows: WorkflowStore;
    let instruments: InstrumentStore;
    let tokenizationKeys: TokenizationKeyStore;

    before(async () => {
      opened = await open();
      db = opened.storage.db;
      const uow = opened.storage.uow;
      merchants = createMerchantStore(uow);
      vault = createVaultStore(uow);
      payments = createPaymentStore(uow);
      throttle = createThrottleStore(uow);
      webhooks = createWebhookStore(uow);
      challenges = createChallengeStore(uow);
      executions = createExecutionStore(uow);
      keys = createIdempotencyStore(uow);
      cascades = createCascadeStore(uow);
      workflows = createWorkflowStore(uow);
      instruments = createInstrumentStore(uow);
      tokenizationKeys = createTokenizationKeyStore(uow);
    });
    after(async () => {
      await opened?.storage.close();
      await opened?.destroy();
    });

    /** One unit of work with the payment, vault and outbox writers, as the payment service composes them. */
    const payWrite = <T>(fn: (w: PaymentWriter & VaultWriter & { addEvent(e: OutboxEvent): Promise<void> }) => Promise<T>) =>
      opened.storage.uow.run((tx) => fn({ ...payments.writer(tx), ...vaultWriter(tx), addEvent: (e: OutboxEvent) => addOutboxEvent(tx, e) }));
    const execWrite = <T>(fn: (w: ExecutionWriter & { addEvent(e: OutboxEvent): Promise<void> }) => Promise<T>) =>
      opened.storage.uow.run((tx) => fn({ ...executions.writer(tx), addEvent: (e: OutboxEvent) => addOutboxEvent(tx, e) }));
    /** A card, its instrument and the events announcing them, in one unit of work. */
    const insertInstrument = (card: StoredCard, i: InstrumentRecord, events: readonly OutboxEvent[] = []) => opened.storage.uow.run(async (tx) => {
      await vaultWriter(tx).insertCard(card);
      await vaultWriter(tx).insertInstrument(i);
      for (const e of events) await addOutboxEvent(tx, e);
    });
    const setInstrumentStatus = (id: string, status: InstrumentStatus, at: number, events: readonly OutboxEvent[] = []) => opened.storage.uow.run(async (tx) => {
      if (!await vaultWriter(tx).setInstrumentStatus(id, status, at)) return false;
      for (const e of events) await addOutboxEvent(tx, e);
      return true;
    });

    /** A merchant with its entity, inserted; payments and cards need one (foreign keys). */
    async function merchant(overrides: Partial<Merchant> = {}): Promise<Fixture> {
      const f = newMerchant(overrides);
      await merchants.insert(f);
      return f;
    }

    async function outboxRow(eventId: string) {
      return db.selectFrom('outbox').selectAll().where('id', '=', eventId).executeTakeFirst();
    }

    describe('migrations', () => {
      test('are idempotent: opening the same location again migrates nothing and keeps the data', async () => {
        const f = await merchant();
        const again = await opened.reopen();
        try {
          const third = await opened.reopen();
          await third.close();
          const m = await createMerchantStore(again.uow).byCredential(f.credentials[0]!.digest, 'opp_bearer');
          assert.deepEqual(m, f.merchant);
          const applied = await again.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
          assert.deepEqual(applied.map((r) => (r as { name: string }).name).sort(), [...migrationNames]);
        } finally {
          await again.close();
        }
      });

      // PostgreSQL: Kysely's Migrator finds its bookkeeping tables in ANY schema unless told which one;
      // another schema's tables (another test file's, or a leftover) made it skip creating ours.
      test('a fresh location migrates while another one is already migrated', async () => {
        const other = await open();
        try {
          const store = createMerchantStore(other.storage.uow);
          assert.equal(await store.count(), 0);
        } finally {
          await other.storage.close();
          await other.destroy();
        }
      });
    });

    describe('merchants', () => {
      test('insert, list, byCredential, entity and count', async () => {
        const before = await merchants.count();
        const a = await merchant({ live: true });
        const b = await merchant();
        assert.equal(await merchants.count(), before + 2);
        assert.equal(typeof (await merchants.count()), 'number');

        const listed = await merchants.list();
        assert.equal(listed.length, before + 2);
        const la = listed.find((x) => x.merchant.id === a.merchant.id);
        const lb = listed.find((x) => x.merchant.id === b.merchant.id);
        assert.deepEqual(la, { merchant: a.merchant, entities: [a.entity] });
        assert.deepEqual(lb, { merchant: b.merchant, entities: [b.entity] });
        // Oldest first.
        assert.ok(listed.indexOf(la!) < listed.indexOf(lb!));
        assert.equal(typeof la!.merchant.createdAt, 'number');
        assert.equal(la!.merchant.live, true);
        assert.equal(lb!.merchant.live, false);

        assert.deepEqual(await merchants.byCredential(a.credentials[0]!.digest, 'opp_bearer'), a.merchant);
        assert.deepEqual(await merchants.byCredential(a.credentials[1]!.digest, 'api_key'), a.merchant);
        assert.deepEqual(await merchants.byCredential(b.credentials[0]!.digest, 'opp_bearer'), b.merchant);
        // The right secret under the wrong kind is no credential.
        assert.equal(await merchants.byCredential(a.credentials[0]!.digest, 'api_key'), undefined);
        assert.equal(await merchants.byCredential(a.credentials[1]!.digest, 'opp_bearer'), undefined);
        assert.equal(await merchants.byCredential(digest(), 'opp_bearer'), undefined);

        assert.deepEqual(await merchants.entity(a.entity.id), a.entity);
        assert.equal(await merchants.entity(id()), undefined);
        const unique = newMerchant();
        unique.entity = { ...unique.entity, uniqueMerchantTransactionId: true };
        await merchants.insert(unique);
        assert.equal((await merchants.entity(unique.entity.id))?.uniqueMerchantTransactionId, true);
      });

      test('a duplicate id is refused and leaves nothing of the refused insert behind', async () => {
        const a = await merchant();
        const count = await merchants.count();
        const dup = newMerchant({ id: a.merchant.id });
        await assert.rejects(merchants.insert(dup));
        assert.equal(await merchants.count(), count);
        assert.equal(await merchants.entity(dup.entity.id), undefined);
        assert.equal(await merchants.byCredential(dup.credentials[0]!.digest, 'opp_bearer'), undefined);
        assert.deepEqual(await merchants.byCredential(a.credentials[0]!.digest, 'opp_bearer'), a.merchant);
      });
    });

    describe('vault store', () => {
      test('addKeyVersion is true for a new version, false for an existing one', async () => {
        const before = await vault.keyVersions();
        const v = before.length === 0 ? 1 : Math.max(...before.map((k) => k.version)) + 1;
        assert.equal(await vault.addKeyVersion(v, 'sealed-A', now()), true);
        assert.equal(await vault.addKeyVersion(v, 'sealed-B', now()), false);
        assert.equal(await vault.addKeyVersion(v + 1, 'sealed-C', now()), true);
        const after = await vault.keyVersions();
        // The first writer wins; versions come back in order.
        assert.deepEqual(after.slice(-2), [{ version: v, sealedKey: 'sealed-A' }, { version: v + 1, sealedKey: 'sealed-C' }]);
        assert.deepEqual(after.map((k) => k.version), [...after.map((k) => k.version)].sort((x, y) => x - y));
      });

      test('rewrap moves a card to a newer key version once; cardsBelowVersion and cardsPerVersion see it', async () => {
        const f = await merchant();
        const versions = await vault.keyVersions();
        const top = Math.max(0, ...versions.map((k) => k.version)) + 100;
        await vault.addKeyVersion(top, 'sealed-old', now());
        await vault.addKeyVersion(top + 1, 'sealed-new', now());
        const c = newCard(f.merchant.id, { keyVersion: top });
        await vault.insertCard(c);
        assert.ok((await vault.cardsBelowVersion(top + 1, 100_000)).some((x) => x.id === c.id && x.keyVersion === top));
        const moved = await Promise.all([vault.rewrap(c.id, top, top + 1, 'wrapped-A'), vault.rewrap(c.id, top, top + 1, 'wrapped-B')]);
        assert.deepEqual(moved.filter(Boolean).length, 1, 'two racing re-wraps: one wins');
        const after = await vault.card(c.id);
        assert.equal(after!.keyVersion, top + 1);
        assert.ok(['wrapped-A', 'wrapped-B'].includes(after!.wrappedKey));
        assert.equal(after!.panCiphertext, c.panCiphertext, 'the PAN ciphertext is untouched');
        assert.ok(!(await vault.cardsBelowVersion(top + 1, 100_000)).some((x) => x.id === c.id));
        const counts = await vault.cardsPerVersion();
        assert.deepEqual(counts.filter((v) => v.version >= top), [{ version: top, cards: 0 }, { version: top + 1, cards: 1 }]);
      });

      test('insertCard / card round-trip every field; holder undefined ↔ null', async () => {
        const f = await merchant();
        const withHolder = newCard(f.merchant.id, { brand: 'MASTER', bin: '55555555', last4: '4444', holder: 'Jöhn Ñoël', keyVersion: 7 });
        const noHolder = newCard(f.merchant.id, { holder: undefined, brand: 'AMEX', expiryMonth: '12', expiryYear: '2030' });
        await vault.insertCard(withHolder);
        await vault.insertCard(noHolder);
        const a = await vault.card(withHolder.id);
        const b = await vault.card(noHolder.id);
        assert.deepEqual(a, withHolder);
        assert.deepEqual(b, noHolder);
        assert.ok(b && 'holder' in b && b.holder === undefined);
        assert.equal(typeof a!.createdAt, 'number');
        assert.equal(typeof a!.keyVersion, 'number');
        assert.equal(await vault.card(id()), undefined);
        // Cards belong to a merchant (foreign key).
        await assert.rejects(vault.insertCard(newCard(id())));
        // Same id twice is refused.
        await assert.rejects(vault.insertCard({ ...withHolder }));
      });
    });

    describe('payment store', () => {
      test('write() commits everything it wrote together and returns its value', async () => {
        const f = await merchant();
        const card = newCard(f.merchant.id, { holder: undefined });
        const p = newPayment(f, { cardId: card.id });
        const t = newTransaction(p, { merchantTransactionId: `order-${id()}`, echo: { customer: { email: 'a@b.c' }, customParameters: { x: '1' } } });
        const eventId = id();
        const result = await payWrite(async (w) => {
          await w.insertCard(card);
          await w.insertPayment(p);
          await w.insertTransaction(t);
          await w.addEvent({ id: eventId, merchantId: f.merchant.id, type: 'payment.created', subjectId: p.id, payload: { id: p.id, n: 1 }, createdAt: p.createdAt });
          return 'done';
        });
        assert.equal(result, 'done');
        assert.deepEqual(await vault.card(card.id), card);
        assert.deepEqual(await payments.payment(p.id), p);
        assert.deepEqual(await payments.transaction(t.id), t);
        assert.deepEqual(await payments.transactionsOf(p.id), [t]);
        const ev = await outboxRow(eventId);
        assert.ok(ev);
        assert.deepEqual(JSON.parse(ev.payload), { id: p.id, n: 1 });
        assert.equal(ev.delivered_at, null);
        assert.equal(ev.type, 'payment.created');
        assert.equal(ev.subject_id, p.id);
        assert.equal(ev.created_at, p.createdAt);
      });

      test('write() whose callback throws after inserting leaves nothing behind', async () => {
        const f = await merchant();
        const card = newCard(f.merchant.id);
        const p = newPayment(f, { cardId: card.id });
        const t = newTransaction(p);
        const eventId = id();
        const boom = new Error('boom after the inserts');
        await assert.rejects(payWrite(async (w) => {
          await w.insertCard(card);
          await w.insertPayment(p);
          await w.insertTransaction(t);
          await w.addEvent({ id: eventId, merchantId: f.merchant.id, type: 'payment.created', subjectId: p.id, payload: {}, createdAt: p.createdAt });
          throw boom;
        }), (e) => e === boom);
        assert.equal(await vault.card(card.id), undefined);
        assert.equal(await payments.payment(p.id), undefined);
        assert.equal(await payments.transaction(t.id), undefined);
        assert.deepEqual(await payments.transactionsOf(p.id), []);
        assert.equal(await outboxRow(eventId), undefined);

        // A database error mid-way (a transaction of an unknown payment: foreign key) rolls back as well.
        const p2 = newPayment(f);
        await assert.rejects(payWrite(async (w) => {
          await w.insertPayment(p2);
          await w.insertTransaction(newTransaction(newPayment(f)));
        }));
        assert.equal(await payments.payment(p2.id), undefined);

        // Updates are rolled back too, and the store keeps working afterwards.
        const p3 = newPayment(f);
        const t3 = newTransaction(p3);
        await payWrite(async (w) => { await w.insertPayment(p3); await w.insertTransaction(t3); });
        await assert.rejects(payWrite(async (w) => {
          await w.settleTransaction(t3.id, { status: 'succeeded', resultCode: '000.100.110', pspReference: 'psp-1', details: {}, at: now() });
          await w.updatePaymentStatus(p3.id, 'captured', now());
          throw new Error('abandon');
        }));
        assert.deepEqual(await payments.transaction(t3.id), t3);
        assert.deepEqual(await payments.payment(p3.id), p3);
      });

      test('lock() returns the payment and its transactions in order (seq); undefined when unknown', async () => {
        const f = await merchant();
        const p = newPayment(f, { initialType: 'PA' });
        const at = now();
        // Inserted out of order, all within the same millisecond, ids in reverse order of seq.
        const ids = [id(), id(), id(), id()].sort().reverse();
        const [t0, t1, t2, t3] = ([['PA', 0], ['CP', 1], ['RF', 2], ['RF', 3]] as const).map(([type, seq]) =>
          newTransaction(p, { id: ids[seq]!, type, seq, createdAt: at, updatedAt: at }));
        await payWrite(async (w) => {
          await w.insertPayment(p);
          for (const t of [t2!, t0!, t3!, t1!]) await w.insertTransaction(t);
        });
        const locked = await payWrite((w) => w.lock(p.id));
        assert.deepEqual(locked, { payment: p, transactions: [t0, t1, t2, t3] });
        assert.deepEqual(await payments.transactionsOf(p.id), [t0, t1, t2, t3]);
        assert.equal(await payWrite((w) => w.lock(id())), undefined);
      });

      test('a second transaction at the same seq of a payment is refused', async () => {
        const f = await merchant();
        const p = newPayment(f);
        const t0 = newTransaction(p, { seq: 0 });
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertTransaction(t0); });
        await assert.rejects(payWrite((w) => w.insertTransaction(newTransaction(p, { seq: 0, type: 'CP' }))));
        // The same seq in another payment is fine.
        const q = newPayment(f);
        await payWrite(async (w) => { await w.insertPayment(q); await w.insertTransaction(newTransaction(q, { seq: 0 })); });
        assert.deepEqual(await payments.transactionsOf(p.id), [t0]);
      });

      test('settleTransaction, updatePaymentStatus and addEvent take effect', async () => {
        const f = await merchant();
        const p = newPayment(f);
        const t = newTransaction(p);
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertTransaction(t); });
        const settledAt = now();
        const eventId = id();
        await payWrite(async (w) => {
          const locked = await w.lock(p.id);
          assert.ok(locked);
          await w.settleTransaction(t.id, {
            status: 'succeeded', resultCode: '000.100.110', pspReference: 'psp-8f3a', details: { ConnectorTxID1: 'abc', AcquirerResponse: '00' }, at: settledAt,
          });
          await w.updatePaymentStatus(p.id, 'captured', settledAt);
          await w.addEvent({ id: eventId, merchantId: f.merchant.id, type: 'payment.captured', subjectId: p.id, payload: { status: 'captured', amount: p.amount }, createdAt: settledAt });
        });
        assert.deepEqual(await payments.transaction(t.id), {
          ...t, status: 'succeeded', resultCode: '000.100.110', pspReference: 'psp-8f3a',
          details: { ConnectorTxID1: 'abc', AcquirerResponse: '00' }, updatedAt: settledAt,
        });
        assert.deepEqual(await payments.payment(p.id), { ...p, status: 'captured', updatedAt: settledAt, version: p.version + 1 });
        const ev = await outboxRow(eventId);
        assert.ok(ev);
        assert.deepEqual(JSON.parse(ev.payload), { status: 'captured', amount: p.amount });

        // A second status change bumps the version again; a settle without a PSP reference stores none.
        const t2 = newTransaction(p, { type: 'RF' });
        await payWrite(async (w) => {
          await w.insertTransaction(t2);
          await w.settleTransaction(t2.id, { status: 'failed', resultCode: '800.100.100', pspReference: undefined, details: {}, at: settledAt + 5 });
          await w.updatePaymentStatus(p.id, 'captured', settledAt + 5);
        });
        const t2after = await payments.transaction(t2.id);
        assert.equal(t2after?.status, 'failed');
        assert.equal(t2after?.pspReference, undefined);
        assert.equal((await payments.payment(p.id))?.version, p.version + 2);
      });

      test('byMerchantTransactionId and merchantTransactionIdTaken are scoped to the entity', async () => {
        const f = await merchant();
        const g = await merchant();
        const mtx = `order-${id()}`;
        const p1 = newPayment(f);
        const p2 = newPayment(f);
        const t1 = newTransaction(p1, { merchantTransactionId: mtx });
        const t2 = newTransaction(p2, { merchantTransactionId: mtx });
        const pg2 = newPayment(g);
        const tOther = newTransaction(pg2, { merchantTransactionId: mtx });
        await payWrite(async (w) => {
          assert.equal(await w.merchantTransactionIdTaken(f.entity.id, mtx), false);
          await w.insertPayment(p1);
          await w.insertTransaction(t1);
          // Visible to the same database transaction before it commits.
          assert.equal(await w.merchantTransactionIdTaken(f.entity.id, mtx), true);
          await w.insertPayment(p2);
          await w.insertTransaction(t2);
        });
        assert.equal(await payWrite((w) => w.merchantTransactionIdTaken(g.entity.id, mtx)), false);
        await payWrite(async (w) => { await w.insertPayment(pg2); await w.insertTransaction(tOther); });

        assert.deepEqual(await payments.byMerchantTransactionId(f.entity.id, mtx), [t1, t2]);
        assert.deepEqual(await payments.byMerchantTransactionId(g.entity.id, mtx), [tOther]);
        assert.deepEqual(await payments.byMerchantTransactionId(f.entity.id, `order-${id()}`), []);
        assert.equal(await payWrite((w) => w.merchantTransactionIdTaken(f.entity.id, mtx)), true);
        assert.equal(await payWrite((w) => w.merchantTransactionIdTaken(f.entity.id, `order-${id()}`)), false);
      });

      test('unsettled(before, limit): unknown, and pending without a result code, touched before `before`', async () => {
        const f = await merchant();
        const p = newPayment(f);
        // Timestamps far in the past so that no other test's transactions fall below `before`.
        const T = 1_000_000;
        const tx = (status: TransactionStatus, updatedAt: number, resultCode?: string) =>
          newTransaction(p, { status, resultCode, createdAt: T, updatedAt });
        const unknown = tx('unknown', T + 10);
        const pendingNoCode = tx('pending', T + 20);
        const pendingWithCode = tx('pending', T + 30, '000.200.000');
        const unknownLate = tx('unknown', T + 100);
        const succeeded = tx('succeeded', T + 5, '000.000.000');
        const failed = tx('failed', T + 6, '800.100.100');
        const pendingNoCode2 = tx('pending', T + 40);
        await payWrite(async (w) => {
          await w.insertPayment(p);
          for (const t of [unknownLate, pendingWithCode, succeeded, pendingNoCode2, failed, pendingNoCode, unknown]) await w.insertTransaction(t);
        });
        // Oldest touched first; `before` is exclusive.
        assert.deepEqual(await payments.unsettled(T + 100, 10), [unknown, pendingNoCode, pendingNoCode2]);
        assert.deepEqual(await payments.unsettled(T + 101, 10), [unknown, pendingNoCode, pendingNoCode2, unknownLate]);
        assert.deepEqual(await payments.unsettled(T + 20, 10), [unknown]);
        assert.deepEqual(await payments.unsettled(T + 10, 10), []);
        assert.deepEqual(await payments.unsettled(T + 101, 2), [unknown, pendingNoCode]);
        // Settling takes one out.
        await payWrite((w) => w.settleTransaction(unknown.id, { status: 'succeeded', resultCode: '000.000.000', pspReference: 'r', details: {}, at: T + 200 }));
        assert.deepEqual(await payments.unsettled(T + 101, 10), [pendingNoCode, pendingNoCode2, unknownLate]);
      });
    });

    describe('value types', () => {
      test('money round-trips as numbers and timestamps as numbers, not strings', async () => {
        const f = await merchant();
        const p = newPayment(f, { amount: bigMinor, currency: 'JPY' });
        const t = newTransaction(p, { amount: { amount: bigMinor, currency: currency('JPY') } });
        const card = newCard(f.merchant.id);
        await vault.insertCard(card);
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertTransaction(t); });

        const rp = await payments.payment(p.id);
        const rt = await payments.transaction(t.id);
        assert.ok(rp && rt);
        assert.strictEqual(rp.amount, bigMinor);
        assert.strictEqual(rt.amount.amount, bigMinor);
        for (const v of [rp.amount, rp.version, rp.createdAt, rp.updatedAt, rt.amount.amount, rt.seq, rt.createdAt, rt.updatedAt]) {
          assert.equal(typeof v, 'number', `${String(v)} is a ${typeof v}`);
        }
        const locked = await payWrite((w) => w.lock(p.id));
        assert.strictEqual(locked?.payment.amount, bigMinor);
        assert.strictEqual(locked?.transactions[0]?.amount.amount, bigMinor);
        assert.strictEqual(locked?.payment.createdAt, p.createdAt);

        const m = (await merchants.list()).find((x) => x.merchant.id === f.merchant.id)?.merchant;
        assert.strictEqual(m?.createdAt, f.merchant.createdAt);
        assert.strictEqual((await merchants.byCredential(f.credentials[0]!.digest, 'opp_bearer'))?.createdAt, f.merchant.createdAt);
        const c = await vault.card(card.id);
        assert.strictEqual(c?.createdAt, card.createdAt);
        assert.strictEqual(c?.keyVersion, card.keyVersion);

        const settledAt = Date.UTC(2099, 11, 31, 23, 59, 59, 999);
        await payWrite(async (w) => {
          await w.settleTransaction(t.id, { status: 'succeeded', resultCode: '000.000.000', pspReference: undefined, details: {}, at: settledAt });
          await w.updatePaymentStatus(p.id, 'captured', settledAt);
        });
        assert.strictEqual((await payments.transaction(t.id))?.updatedAt, settledAt);
        assert.strictEqual((await payments.payment(p.id))?.updatedAt, settledAt);
      });
    });

    describe('concurrency', () => {
      test('20 concurrent write()s locking one payment serialise: every one sees the previous ones', async () => {
        const f = await merchant();
        const p = newPayment(f);
        await payWrite((w) => w.insertPayment(p));
        const base = now();
        const seen = await Promise.all(Array.from({ length: 20 }, () => payWrite(async (w) => {
          const locked = await w.lock(p.id);
          assert.ok(locked);
          const n = locked.transactions.length;
          // Give a competing writer every chance to interleave if nothing serialises us.
          await new Promise((resolve) => setTimeout(resolve, 2));
          // seq is unique per payment: a writer that read a stale count fails here instead of passing silently.
          await w.insertTransaction(newTransaction(p, { type: 'CP', seq: n, createdAt: base + n, updatedAt: base + n }));
          return n;
        })));
        assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
        const txs = await payments.transactionsOf(p.id);
        assert.equal(txs.length, 20);
        assert.deepEqual(txs.map((t) => t.seq), Array.from({ length: 20 }, (_, i) => i));
        assert.deepEqual(txs.map((t) => t.createdAt), Array.from({ length: 20 }, (_, i) => base + i));
      });
    });

    describe('webhook store', () => {
      const T = 1_800_000_000_000;
      async function endpoint(f: Fixture, overrides: Partial<EndpointRecord> = {}): Promise<EndpointRecord> {
        const e: EndpointRecord = {
          id: id(), merchantId: f.merchant.id, dialect: 'executions', entityId: undefined, url: 'https://example.com/hook', types: [],
          sealedSecret: 'sealed', sealedPreviousSecret: undefined, previousSecretUntil: undefined, status: 'active',
          failingSince: undefined, createdAt: T, updatedAt: T, ...overrides,
        };
        await webhooks.insertEndpoint(e, []);
        return e;
      }
      const delivery = (e: EndpointRecord, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
        id: id(), eventId: id(), endpointId: e.id, merchantId: e.merchantId, eventType: 'executionCreated', body: '{"a":1}',
        status: 'pending', attempts: 0, retryIndex: 0, ladderStart: T, nextAttemptAt: T, lastStatus: undefined, lastError: undefined,
        deliveredAt: undefined, createdAt: T, ...overrides,
      });

      test('endpoints round-trip; updates change only what they name', async () => {
        const f = await merchant();
        const e = await endpoint(f, { dialect: 'opp', entityId: f.entity.id, types: ['PAYMENT'] });
        assert.deepEqual(await webhooks.endpoint(e.id), e);
        await webhooks.updateEndpoint(e.id, { sealedPreviousSecret: 'old', previousSecretUntil: T + 5, sealedSecret: 'new' }, T + 1);
        assert.deepEqual(await webhooks.endpoint(e.id), { ...e, sealedSecret: 'new', sealedPreviousSecret: 'old', previousSecretUntil: T + 5, updatedAt: T + 1 });
        await webhooks.updateEndpoint(e.id, { status: 'disabled' }, T + 2);
        assert.equal((await webhooks.endpoint(e.id))!.sealedPreviousSecret, 'old');
        assert.deepEqual((await webhooks.endpoints({ merchantId: f.merchant.id })).map((x) => x.status), ['disabled']);
      });

      test('fan-out: two concurrent claims of the same events create each delivery once', async () => {
        const f = await merchant();
        const e = await endpoint(f);
        const events = Array.from({ length: 5 }, () => id());
        for (const ev of events) {
          await addOutboxEvent(db, { id: ev, merchantId: f.merchant.id, type: 'execution.executionCreated', subjectId: ev, payload: { n: 1 }, createdAt: T });
        }
        const pending = (await webhooks.undispatched(1000)).filter((x) => events.includes(x.id));
        assert.equal(pending.length, 5);
        assert.deepEqual(pending[0]!.payload, { n: 1 });
        const plan = () => new Map(events.map((ev) => [ev, [delivery(e, { eventId: ev })]]));
        const [a, b] = await Promise.all([webhooks.fanOut(plan(), T), webhooks.fanOut(plan(), T)]);
        assert.deepEqual([...a, ...b].sort(), [...events].sort(), 'each event claimed by exactly one');
        assert.equal((await webhooks.deliveries({ endpointId: e.id, limit: 100 })).length, 5);
        assert.equal((await webhooks.undispatched(1000)).filter((x) => events.includes(x.id)).length, 0);
      });

      test('claims: concurrent workers get disjoint leases; a live lease is respected, an expired one is not; disabled endpoints wait', async () => {
        const f = await merchant();
        const e = await endpoint(f);
        const off = await endpoint(f, { status: 'disabled' });
        // Earlier tests' deliveries are due too: lease them far away so only this test's compete.
        await webhooks.claimDue(T, T + 1e9, 'earlier', 1000);
        const due = Array.from({ length: 10 }, () => delivery(e));
        for (const d of [...due, delivery(off), delivery(e, { nextAttemptAt: T + 10_000 })]) await webhooks.addDelivery(d);
        const mine = (ds: DeliveryRecord[]) => ds.filter((d) => d.merchantId === f.merchant.id).map((d) => d.id);
        const [a, b] = await Promise.all([webhooks.claimDue(T, T + 1000, 'a', 6), webhooks.claimDue(T, T + 1000, 'b', 6)]);
        const claimed = [...mine(a), ...mine(b)];
        assert.equal(new Set(claimed).size, claimed.length, 'no delivery leased twice');
        assert.deepEqual(claimed.sort(), due.map((d) => d.id).sort(), 'every due delivery of the active endpoint, nothing else');
        assert.deepEqual(mine(await webhooks.claimDue(T + 999, T + 2000, 'c', 100)), [], 'leases still live');
        assert.equal(mine(await webhooks.claimDue(T + 1001, T + 3000, 'c', 100)).length, 10, 'expired leases are claimable again');
      });

      test('recording an attempt: once per pending delivery, with the endpoint\'s streak; redelivery restarts the ladder', async () => {
        const f = await merchant();
        const e = await endpoint(f);
        const d = delivery(e);
        await webhooks.addDelivery(d);
        const attempt = { id: id(), deliveryId: d.id, attemptedAt: T, httpStatus: 503, latencyMs: 12, error: undefined, excerpt: 'busy' };
        const failed = { attempt, status: 'pending' as const, retryIndex: 1, nextAttemptAt: T + 30_000, endpoint: { id: e.id, failingSince: T, status: 'active' as const, at: T } };
        assert.equal(await webhooks.recordAttempt(d.id, failed), true);
        let [row] = await webhooks.deliveries({ eventId: d.eventId });
        assert.deepEqual([row!.status, row!.attempts, row!.retryIndex, row!.nextAttemptAt, row!.lastStatus], ['pending', 1, 1, T + 30_000, 503]);
        assert.equal((await webhooks.endpoint(e.id))!.failingSince, T);
        assert.deepEqual(await webhooks.attemptsOf(d.id), [attempt]);
        const ok = { ...failed, attempt: { ...attempt, id: id(), attemptedAt: T + 30_000, httpStatus: 200, excerpt: undefined }, status: 'delivered' as const, endpoint: { ...failed.endpoint, failingSince: undefined } };
        assert.equal(await webhooks.recordAttempt(d.id, ok), true);
        assert.equal(await webhooks.recordAttempt(d.id, { ...ok, attempt: { ...ok.attempt, id: id() } }), false, 'a late duplicate changes nothing');
        [row] = await webhooks.deliveries({ eventId: d.eventId });
        assert.deepEqual([row!.status, row!.attempts, row!.deliveredAt], ['delivered', 2, T + 30_000]);
        assert.equal((await webhooks.endpoint(e.id))!.failingSince, undefined);
        assert.equal(await webhooks.redeliver({ failedSince: T }, T + 99), 0, 'delivered is not failed');
        assert.equal(await webhooks.redeliver({ deliveryIds: [d.id] }, T + 100), 1);
        [row] = await webhooks.deliveries({ eventId: d.eventId });
        assert.deepEqual([row!.status, row!.retryIndex, row!.ladderStart, row!.nextAttemptAt, row!.attempts], ['pending', 0, T + 100, T + 100, 2]);
      });
    });

    describe('challenge store', () => {
      function newChallenge(f: Fixture, overrides: Partial<Challenge> = {}): Challenge {
        return {
          id: id(), merchantId: f.merchant.id, merchantName: f.merchant.name, purpose: '3ds', subject: { kind: 'payment', id: id() },
          amount: { amount: 9200, currency: currency('EUR') }, instrumentLabel: 'VISA •••• 0042',
          returnOrigins: ['https://shop.example'], status: 'open', createdAt: now(), expiresAt: now() + 60_000, resolvedAt: undefined, ...overrides,
        };
      }

      test('round-trips a challenge and finds the open one of a subject', async () => {
        const f = await merchant();
        const c = newChallenge(f);
        await challenges.insert(c);
        assert.deepEqual(await challenges.get(c.id), c);
        assert.deepEqual(await challenges.openOf('payment', c.subject.id), c);
        assert.equal(await challenges.openOf('execution', c.subject.id), undefined);
      });

      test('resolve(): exactly one of 10 concurrent answers wins; none after expiry', async () => {
        const f = await merchant();
        const c = newChallenge(f);
        await challenges.insert(c);
        const won = await Promise.all(Array.from({ length: 10 }, (_, i) => challenges.resolve(c.id, i % 2 ? 'failed' : 'completed', now(), now())));
        assert.equal(won.filter(Boolean).length, 1);
        assert.notEqual((await challenges.get(c.id))!.status, 'open');
        assert.equal(await challenges.openOf('payment', c.subject.id), undefined);
        const late = newChallenge(f, { expiresAt: 1000 });
        await challenges.insert(late);
        assert.equal(await challenges.resolve(late.id, 'completed', 2000, 2000), false, 'expired pages take no answer');
        assert.equal(await challenges.resolve(late.id, 'expired', 2000, 0), true, 'the expiry sweep still closes it');
      });
    });

    describe('asynchronous payment queries', () => {
      test('awaitingBefore() lists initial attempts still waiting for their shopper; resumeTransaction() takes them out', async () => {
        const f = await merchant();
        const p = newPayment(f, { initialType: 'PA' });
        const t = newTransaction(p, { status: 'awaiting', resultCode: '000.200.000', createdAt: 1000, updatedAt: 1000 });
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertTransaction(t); });
        assert.ok((await payments.awaitingBefore(1001, 1000)).some((x) => x.id === t.id));
        assert.ok(!(await payments.awaitingBefore(1000, 1000)).some((x) => x.id === t.id));
        await payWrite((w) => w.resumeTransaction(t.id, { '3ds.acsEci': '05' }, 2000));
        const resumed = await payments.transaction(t.id);
        assert.equal(resumed!.status, 'pending');
        assert.equal(resumed!.resultCode, undefined);
        assert.deepEqual(resumed!.details, { '3ds.acsEci': '05' });
        assert.ok(!(await payments.awaitingBefore(Number.MAX_SAFE_INTEGER, 1000)).some((x) => x.id === t.id));
      });

      test('bankTransfersAwaitingReceipt() lists authorized bank transfers only, by last change', async () => {
        const f = await merchant();
        const bank = newPayment(f, { method: 'bank_transfer', status: 'authorized', updatedAt: 5000 });
        const card = newPayment(f, { method: 'card', status: 'authorized', updatedAt: 5000 });
        const captured = newPayment(f, { method: 'bank_transfer', status: 'captured', updatedAt: 5000 });
        await payWrite(async (w) => { for (const p of [bank, card, captured]) await w.insertPayment(p); });
        const due = (await payments.bankTransfersAwaitingReceipt(5001, 1000)).map((p) => p.id);
        assert.ok(due.includes(bank.id));
        assert.ok(!due.includes(card.id) && !due.includes(captured.id));
        assert.ok(!(await payments.bankTransfersAwaitingReceipt(5000, 1000)).some((p) => p.id === bank.id));
        assert.equal((await payments.payment(bank.id))!.method, 'bank_transfer');
      });
    });

    describe('execution store', () => {
      function newExecution(f: Fixture, overrides: Partial<ExecutionRecord> = {}): ExecutionRecord {
        const at = now();
        return {
          id: randomUUID(), merchantId: f.merchant.id, workflowCode: 'payment-acceptance', merchantReference: undefined,
          holderReference: undefined, workspaceId: f.merchant.workspaceId, meta: {}, status: 'created',
          history: [{ code: 'created', time: at }], authorize: undefined, paymentId: undefined, action: undefined, actions: [],
          captureClosed: false, version: 1, createdAt: at, updatedAt: at, ...overrides,
        };
      }

      test('insert / get round-trip every field; undefined ↔ null; money and times as numbers', async () => {
        const f = await merchant();
        const bare = newExecution(f);
        const at = now();
        const full = newExecution(f, {
          merchantReference: 'order-1', holderReference: 'c-1', meta: { order: { reference: 'order-1', lines: [1, 'two', null] }, flag: true },
          status: 'authorizePending',
          history: [{ code: 'created', time: at }, { code: 'authorizeRequested', time: at + 1 }, { code: 'authorizeFailed', time: at + 2, errors: [{ reason: 'declined_soft', resultCode: '800.100.152' }] }],
          authorize: {
            amount: { amount: bigMinor, currency: currency('EUR') }, returnInfo: { success: 'https://shop.example/ok', cancel: 'https://shop.example/no' },
            paymentMethodCode: 'card', instrumentId: randomUUID(), cardId: id(), baseUrl: 'http://127.0.0.1:8080',
            authentication: { status: 'Y', eci: '05' }, challengeDone: true,
          },
          paymentId: id(), action: { kind: '3ds', challengeId: id(), href: 'http://127.0.0.1:8080/hosted/3ds/x' },
          actions: [{ id: randomUUID(), name: 'authorize', requestedAt: at, amount: { amount: 12990, currency: currency('EUR') }, success: false }],
          captureClosed: true, version: 7,
        });
        await execWrite(async (w) => { await w.insert(bare); await w.insert(full); });
        assert.deepEqual(await executions.get(bare.id), bare);
        const got = await executions.get(full.id);
        assert.deepEqual(got, full);
        assert.equal(typeof got?.authorize?.amount.amount, 'number');
        assert.equal(typeof got?.createdAt, 'number');
        assert.equal(await executions.get(randomUUID()), undefined);
      });

      test('write(): lock, update and addEvent commit together; a callback that throws leaves nothing', async () => {
        const f = await merchant();
        const e = newExecution(f);
        const eventId = id();
        await execWrite(async (w) => {
          await w.insert(e);
          await w.addEvent({ id: eventId, merchantId: f.merchant.id, type: 'execution.executionCreated', subjectId: e.id, payload: { event: 'executionCreated' }, createdAt: e.createdAt });
          await w.notify(e.id);
        });
        assert.deepEqual(JSON.parse((await outboxRow(eventId))!.payload), { event: 'executionCreated' });
        const moved = { ...e, status: 'authorizeRequested' as const, history: [...e.history, { code: 'authorizeRequested' as const, time: e.createdAt + 1 }], version: 2, updatedAt: e.createdAt + 1 };
        await execWrite(async (w) => {
          assert.deepEqual(await w.lock(e.id), e);
          await w.update(moved);
        });
        assert.deepEqual(await executions.get(e.id), moved);

        const lost = newExecution(f);
        const lostEvent = id();
        await assert.rejects(execWrite(async (w) => {
          await w.insert(lost);
          await w.update({ ...moved, status: 'authorized', version: 3 });
          await w.addEvent({ id: lostEvent, merchantId: f.merchant.id, type: 'execution.executionCreated', subjectId: lost.id, payload: {}, createdAt: lost.createdAt });
          throw new Error('boom');
        }), /boom/);
        assert.equal(await executions.get(lost.id), undefined);
        assert.equal(await outboxRow(lostEvent), undefined);
        assert.deepEqual(await executions.get(e.id), moved, 'the update rolled back too');
        // created_at is never rewritten by update().
        await execWrite((w) => w.update({ ...moved, createdAt: 1, version: 3 }));
        assert.equal((await executions.get(e.id))?.createdAt, e.createdAt);
      });

      test('list(): scoped to merchant and workflow, filters, newest first, keyset cursor through ties', async () => {
        const f = await merchant();
        const other = await merchant();
        const T = now();
        clock += 100;
        // Three rows share one createdAt: the cursor must break the tie by id.
        const rows = [
          newExecution(f, { createdAt: T, updatedAt: T, merchantReference: 'o-1', holderReference: 'h-1' }),
          newExecution(f, { createdAt: T + 10, updatedAt: T + 10, merchantReference: 'o-2', holderReference: 'h-1', status: 'authorized' }),
          newExecution(f, { createdAt: T + 10, updatedAt: T + 10, merchantReference: 'o-3', holderReference: 'h-2' }),
          newExecution(f, { createdAt: T + 10, updatedAt: T + 10, merchantReference: 'o-4', holderReference: 'h-2', workspaceId: 'ws-other' }),
          newExecution(f, { createdAt: T + 20, updatedAt: T + 20, merchantReference: 'o-5', holderReference: 'h-1', status: 'authorized' }),
        ];
        const foreign = newExecution(other, { merchantReference: 'o-1' });
        await execWrite(async (w) => { for (const r of [...rows, foreign]) await w.insert(r); });
        const base = { merchantId: f.merchant.id, workflowCode: 'payment-acceptance' };
        const expected = [...rows].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((r) => r.id);
        assert.deepEqual((await executions.list({ ...base, limit: 100 })).map((r) => r.id), expected);
        const paged: string[] = [];
        let before: { createdAt: number; id: string } | undefined;
        for (;;) {
          const page = await executions.list({ ...base, limit: 2, ...(before ? { before } : {}) });
          paged.push(...page.map((r) => r.id));
          if (page.length < 2) break;
          before = { createdAt: page.at(-1)!.createdAt, id: page.at(-1)!.id };
        }
        assert.deepEqual(paged, expected);
        const ids = async (extra: object) => (await executions.list({ ...base, limit: 100, ...extra })).map((r) => r.merchantReference).sort();
        assert.deepEqual(await ids({ merchantReference: 'o-1' }), ['o-1']);
        assert.deepEqual(await ids({ holderReference: 'h-1' }), ['o-1', 'o-2', 'o-5']);
        assert.deepEqual(await ids({ lastStatus: 'authorized' }), ['o-2', 'o-5']);
        assert.deepEqual(await ids({ workspaceId: 'ws-other' }), ['o-4']);
        assert.deepEqual(await ids({ holderReference: 'h-1', lastStatus: 'authorized' }), ['o-2', 'o-5']);
        assert.deepEqual(await executions.list({ ...base, workflowCode: 'other-workflow', limit: 100 }), []);
        assert.deepEqual((await executions.list({ merchantId: other.merchant.id, workflowCode: 'payment-acceptance', limit: 100 })).map((r) => r.id), [foreign.id]);
      });

      test('stale(): the given statuses, changed before `before`, oldest change first, at most `limit`; not those awaiting their shopper', async () => {
        const f = await merchant();
        const T = now();
        clock += 1000;
        const mk = (status: ExecutionRecord['status'], updatedAt: number) => newExecution(f, { status, createdAt: T, updatedAt });
        const awaitingShopper = { ...mk('authorizePending', T + 1), action: { kind: '3ds' as const, challengeId: id(), href: 'https://gw.example/hosted/3ds/x' } };
        const rows = [mk('authorizeRequested', T + 30), mk('unknown', T + 10), mk('authorizePending', T + 20), mk('authorized', T + 5), mk('authorizeRequested', T + 500), awaitingShopper];
        await execWrite(async (w) => { for (const r of rows) await w.insert(r); });
        const mine = (list: ExecutionRecord[]) => list.filter((e) => e.merchantId === f.merchant.id).map((e) => [e.status, e.updatedAt]);
        const stale = await executions.stale(['authorizeRequested', 'authorizePending', 'unknown'], T + 100, 1000);
        assert.deepEqual(mine(stale), [['unknown', T + 10], ['authorizePending', T + 20], ['authorizeRequested', T + 30]]);
        assert.equal((await executions.stale(['authorizeRequested', 'authorizePending', 'unknown'], T + 100, 1)).length, 1);
      });

      test('10 concurrent write()s locking one execution serialise: each sees the previous version', async () => {
        const f = await merchant();
        const e = newExecution(f);
        await execWrite((w) => w.insert(e));
        const seen = await Promise.all(Array.from({ length: 10 }, () => execWrite(async (w) => {
          const locked = (await w.lock(e.id))!;
          await new Promise((resolve) => setTimeout(resolve, 2));
          await w.update({ ...locked, version: locked.version + 1, meta: { ...locked.meta, [`v${locked.version}`]: true } });
          return locked.version;
        })));
        assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i + 1));
        const after = await executions.get(e.id);
        assert.equal(after?.version, 11);
        assert.equal(Object.keys(after!.meta).length, 10, 'no update was lost');
      });

      test('notify(): on PostgreSQL a listener hears the id once the change commits, never for a rolled-back one', async (t) => {
        if (opened.storage.kind !== 'postgres') return t.skip('LISTEN/NOTIFY is PostgreSQL only; SQLite has one node');
        const client = new pg.Client({ connectionString: testPostgresUrl });
        await client.connect();
        try {
          const heard: string[] = [];
          client.on('notification', (n) => { if (n.channel === executionChannel && n.payload) heard.push(n.payload); });
          await client.query(`LISTEN ${executionChannel}`);
          const f = await merchant();
          const e = newExecution(f);
          const gone = newExecution(f);
          await assert.rejects(execWrite(async (w) => { await w.insert(gone); await w.notify(gone.id); throw new Error('rolled back'); }));
          let heardBeforeCommit = true;
          await execWrite(async (w) => {
            await w.insert(e);
            await w.notify(e.id);
            await new Promise((resolve) => setTimeout(resolve, 100));
            heardBeforeCommit = heard.includes(e.id);
          });
          for (let i = 0; i < 100 && !heard.includes(e.id); i++) await new Promise((resolve) => setTimeout(resolve, 10));
          assert.equal(heardBeforeCommit, false);
          assert.ok(heard.includes(e.id));
          assert.ok(!heard.includes(gone.id));
        } finally {
          await client.end();
        }
      });
    });

    describe('idempotency key store', () => {
      const row = (merchantId: string, overrides: Partial<IdempotencyRow> = {}): IdempotencyRow => ({
        merchantId, key: randomUUID(), operation: 'POST /merchant/workflows/:code/executions {}', requestHash: digest(),
        state: 'in_flight', responseStatus: undefined, responseBody: undefined, createdAt: now(), ...overrides,
      });

      test('claim(): the first inserts; a repeat returns the stored row; the key is scoped per merchant', async () => {
        const a = await merchant();
        const b = await merchant();
        const r = row(a.merchant.id);
        assert.deepEqual(await keys.claim(r), { claimed: true });
        assert.deepEqual(await keys.claim({ ...r, requestHash: digest(), createdAt: now() }), { claimed: false, existing: r });
        assert.deepEqual(await keys.claim({ ...r, merchantId: b.merchant.id }), { claimed: true });
        const body = JSON.stringify({ id: randomUUID(), note: 'ünïcode ✓' });
        await keys.complete(a.merchant.id, r.key, 201, body);
        assert.deepEqual(await keys.claim(r), { claimed: false, existing: { ...r, state: 'done', responseStatus: 201, responseBody: body } });
      });

      test('release() frees only an in-flight key; takeOver() only the claim made at staleAt; purge() forgets old keys', async () => {
        const f = await merchant();
        const m = f.merchant.id;
        const inFlight = row(m);
        const done = row(m);
        await keys.claim(inFlight);
        await keys.claim(done);
        await keys.complete(m, done.key, 200, '{}');
        await keys.release(m, inFlight.key);
        await keys.release(m, done.key);
        assert.deepEqual(await keys.claim(inFlight), { claimed: true }, 'released: claimable again');
        assert.equal((await keys.claim(done) as { existing: IdempotencyRow }).existing.state, 'done', 'a done key is kept');

        assert.equal(await keys.takeOver(m, inFlight.key, inFlight.createdAt - 1, now()), false);
        const takenAt = now();
        assert.equal(await keys.takeOver(m, inFlight.key, inFlight.createdAt, takenAt), true);
        assert.equal(await keys.takeOver(m, inFlight.key, inFlight.createdAt, now()), false, 'taken over once only');
        assert.equal(await keys.takeOver(m, done.key, done.createdAt, now()), false, 'a finished key is never taken over');
        assert.equal((await keys.claim(inFlight) as { existing: IdempotencyRow }).existing.createdAt, takenAt);

        const old = row(m, { createdAt: 1_000 });
        await keys.claim(old);
        assert.ok(await keys.purge(2_000) >= 1);
        assert.deepEqual(await keys.claim(old), { claimed: true }, 'purged');
        assert.equal((await keys.claim(done) as { claimed: boolean }).claimed, false, 'newer keys stay');
      });

      test('10 concurrent duplicates of one key: exactly one proceeds, the others conflict (in flight)', async () => {
        const f = await merchant();
        const r = row(f.merchant.id);
        const claims = await Promise.all(Array.from({ length: 10 }, () => keys.claim({ ...r })));
        assert.equal(claims.filter((c) => c.claimed).length, 1);

        const idem = createIdempotency({ store: keys, clock: manualClock(Date.now()) });
        const key = randomUUID();
        const admissions = await Promise.all(Array.from({ length: 10 }, () => idem.admit(f.merchant.id, key, 'POST /x {}', { amount: { value: '1.00' } })));
        assert.deepEqual(admissions.filter((a) => a.kind === 'proceed').length, 1);
        assert.deepEqual(admissions.filter((a) => a.kind !== 'proceed'), Array.from({ length: 9 }, () => ({ kind: 'conflict', reason: 'in_flight' })));
        await idem.complete(f.merchant.id, key, 201, '{"ok":true}');
        assert.deepEqual(await idem.admit(f.merchant.id, key, 'POST /x {}', { amount: { value: '1.00' } }), { kind: 'replay', status: 201, body: '{"ok":true}' });
        assert.deepEqual(await idem.admit(f.merchant.id, key, 'POST /x {}', { amount: { value: '2.00' } }), { kind: 'conflict', reason: 'mismatch' });
      });
    });

    describe('cascade attempt store', () => {
      const attempt = (cascadeId: string, seq: number, overrides: Partial<CascadeAttemptRecord> = {}): CascadeAttemptRecord => ({
        id: id(), cascadeId, seq, accountId: id(), accountName: `psp-${seq}`, authenticated: seq % 2 === 1, createdAt: now(), ...overrides,
      });

      test('insert() takes a (cascade, seq) slot once; attempts() lists them by seq with every field', async () => {
        const cascadeId = randomUUID();
        const a1 = attempt(cascadeId, 1);
        const a0 = attempt(cascadeId, 0);
        assert.equal(await cascades.insert(a1), true);
        assert.equal(await cascades.insert(a0), true);
        assert.equal(await cascades.insert(attempt(cascadeId, 1)), false, 'slot 1 is taken');
        assert.equal(await cascades.insert(attempt(randomUUID(), 1)), true, 'another cascade has its own slots');
        assert.deepEqual(await cascades.attempts(cascadeId), [a0, a1]);
        assert.deepEqual(await cascades.attempts(randomUUID()), []);
      });

      test('10 concurrent inserts into one slot: exactly one wins, and it is the stored one', async () => {
        const cascadeId = randomUUID();
        const tries = Array.from({ length: 10 }, () => attempt(cascadeId, 0));
        const won = await Promise.all(tries.map((a) => cascades.insert(a)));
        assert.equal(won.filter(Boolean).length, 1);
        assert.deepEqual(await cascades.attempts(cascadeId), [tries[won.indexOf(true)]]);
      });
    });

    describe('workflow and PSP account store', () => {
      const account = (merchantId: string, name: string, overrides: Partial<PspAccount> = {}): PspAccount => ({
        id: id(), merchantId, name, behaviour: { latencyMs: 20, declines: [{ cardSuffixes: ['1111'], category: 'soft' }], timeouts: [] },
        createdAt: now(), updatedAt: now(), ...overrides,
      });

      test('upsertAccount() inserts, then replaces the behaviour of the same name keeping its id; list, get, remove', async () => {
        const f = await merchant();
        const other = await merchant();
        const b = account(f.merchant.id, 'psp-b');
        assert.deepEqual(await workflows.upsertAccount(b), b);
        const a = account(f.merchant.id, 'psp-a', { behaviour: { latencyMs: 0, declines: [], timeouts: [{ amounts: [bigMinor] }] } });
        await workflows.upsertAccount(a);
        await workflows.upsertAccount(account(other.merchant.id, 'psp-a'));
        const changedAt = now();
        const replaced = await workflows.upsertAccount(account(f.merchant.id, 'psp-b', { behaviour: { latencyMs: 5, declines: [], timeouts: [] }, createdAt: changedAt, updatedAt: changedAt }));
        assert.deepEqual(replaced, { ...b, behaviour: { latencyMs: 5, declines: [], timeouts: [] }, updatedAt: changedAt });
        assert.deepEqual(await workflows.accounts(f.merchant.id), [a, replaced]);
        assert.deepEqual(await workflows.account(b.id), replaced);
        assert.equal(await workflows.account(id()), undefined);
        assert.equal(await workflows.removeAccount(f.merchant.id, 'psp-a'), true);
        assert.equal(await workflows.removeAccount(f.merchant.id, 'psp-a'), false);
        assert.deepEqual((await workflows.accounts(f.merchant.id)).map((x) => x.name), ['psp-b']);
        assert.equal((await workflows.accounts(other.merchant.id)).length, 1, 'another merchant keeps its psp-a');
      });

      test('workflow(): undefined until set; setWorkflow() inserts then replaces', async () => {
        const f = await merchant();
        assert.equal(await workflows.workflow(f.merchant.id, 'payment-acceptance'), undefined);
        const first = { accounts: ['psp-a', 'psp-b'], moveOn: ['soft' as const], notifyPending: true };
        await workflows.setWorkflow(f.merchant.id, 'payment-acceptance', first, now());
        assert.deepEqual(await workflows.workflow(f.merchant.id, 'payment-acceptance'), first);
        const second = { accounts: [], moveOn: ['soft' as const, 'error' as const], notifyPending: false };
        await workflows.setWorkflow(f.merchant.id, 'payment-acceptance', second, now());
        assert.deepEqual(await workflows.workflow(f.merchant.id, 'payment-acceptance'), second);
        assert.equal(await workflows.workflow((await merchant()).merchant.id, 'payment-acceptance'), undefined);
      });
    });

    describe('merchant origins', () => {
      test('add, list (per merchant, in byte order whatever the collation), adding twice is harmless, remove once; an unknown merchant is refused', async () => {
        const a = await merchant();
        const b = await merchant();
        assert.deepEqual(await merchants.origins(a.merchant.id), []);
        // 'a-c' sorts before 'ab' byte-wise; a locale collation that ignores punctuation would put it after.
        for (const o of ['https://z.example', 'https://ab.example', 'https://a-c.example', 'http://127.0.0.1:8081', 'https://ab.example']) {
          await merchants.addOrigin(a.merchant.id, o, now());
        }
        await Promise.all(Array.from({ length: 5 }, () => merchants.addOrigin(b.merchant.id, 'https://b.example', now())));
        assert.deepEqual(await merchants.origins(a.merchant.id), ['http://127.0.0.1:8081', 'https://a-c.example', 'https://ab.example', 'https://z.example']);
        assert.deepEqual(await merchants.origins(b.merchant.id), ['https://b.example'], 'concurrent adds of one origin keep one');
        // Exact match: canonical form is the service's job; the store neither folds case nor matches another merchant's.
        assert.equal(await merchants.removeOrigin(a.merchant.id, 'https://AB.example'), false);
        assert.equal(await merchants.removeOrigin(b.merchant.id, 'https://ab.example'), false);
        assert.equal(await merchants.removeOrigin(a.merchant.id, 'https://ab.example'), true);
        assert.equal(await merchants.removeOrigin(a.merchant.id, 'https://ab.example'), false);
        assert.deepEqual(await merchants.origins(a.merchant.id), ['http://127.0.0.1:8081', 'https://a-c.example', 'https://z.example']);
        await assert.rejects(merchants.addOrigin(id(), 'https://x.example', now()));
        assert.deepEqual(await merchants.origins(id()), []);
      });
    });

    describe('instrument store', () => {
      const newInstrument = (merchantId: string, cardId: string, overrides: Partial<InstrumentRecord> = {}): InstrumentRecord => ({
        id: randomUUID(), merchantId, cardId, holderReference: 'customer-1', status: 'enabled', futureUsage: undefined,
        storeInstrument: false, entityId: undefined, createdAt: now(), updatedAt: now(), ...overrides,
      });

      test('insert() stores card and instrument together; round-trip; setStatus()', async () => {
        const f = await merchant();
        const card = newCard(f.merchant.id);
        const i = newInstrument(f.merchant.id, card.id);
        await insertInstrument(card, i);
        assert.deepEqual(await instruments.instrument(i.id), i);
        assert.deepEqual(await vault.card(card.id), card);
        const card2 = newCard(f.merchant.id);
        const stored = newInstrument(f.merchant.id, card2.id, { futureUsage: 'CardOnFile', storeInstrument: true, status: 'transient', entityId: f.entity.id });
        await insertInstrument(card2, stored);
        assert.deepEqual(await instruments.instrument(stored.id), stored);
        const at = now();
        await setInstrumentStatus(i.id, 'deleted', at);
        assert.deepEqual(await instruments.instrument(i.id), { ...i, status: 'deleted', updatedAt: at });
        assert.equal(await instruments.instrument(randomUUID()), undefined);
      });

      test('an instrument that cannot be inserted leaves no card behind', async () => {
        const f = await merchant();
        const first = newCard(f.merchant.id);
        const i = newInstrument(f.merchant.id, first.id);
        await insertInstrument(first, i);
        const orphan = newCard(f.merchant.id);
        await assert.rejects(insertInstrument(orphan, newInstrument(f.merchant.id, orphan.id, { id: i.id })));
        assert.equal(await vault.card(orphan.id), undefined);
      });

      const instrumentEvent = (f: Fixture, subjectId: string): OutboxEvent =>
        ({ id: id(), merchantId: f.merchant.id, type: 'registration.created', subjectId, payload: { n: 1 }, createdAt: now() });
      /** Inserts a card and its instrument; returns the instrument. */
      async function saved(f: Fixture, overrides: Partial<InstrumentRecord> = {}): Promise<InstrumentRecord> {
        const c = newCard(f.merchant.id);
        const i = newInstrument(f.merchant.id, c.id, overrides);
        await insertInstrument(c, i);
        return i;
      }

      test('a refused insert (duplicate id, unknown merchant) leaves neither its card nor its events behind', async () => {
        const f = await merchant();
        const first = await saved(f);
        const c = newCard(f.merchant.id);
        const event = instrumentEvent(f, first.id);
        await assert.rejects(insertInstrument(c, newInstrument(f.merchant.id, c.id, { id: first.id }), [event]));
        assert.equal(await vault.card(c.id), undefined);
        assert.equal(await outboxRow(event.id), undefined);
        const stranger = newMerchant();
        const c2 = newCard(stranger.merchant.id);
        await assert.rejects(insertInstrument(c2, newInstrument(stranger.merchant.id, c2.id)));
        assert.equal(await vault.card(c2.id), undefined);
      });

      test('setStatus moves once, with its events only when it moves; racing moves: one wins', async () => {
        const f = await merchant();
        const i = await saved(f);
        const at = now();
        const moved = instrumentEvent(f, i.id);
        const again = instrumentEvent(f, i.id);
        assert.equal(await setInstrumentStatus(i.id, 'deleted', at, [moved]), true);
        assert.equal(await setInstrumentStatus(i.id, 'deleted', now(), [again]), false);
        assert.ok(await outboxRow(moved.id));
        assert.equal(await outboxRow(again.id), undefined);
        assert.deepEqual(await instruments.instrument(i.id), { ...i, entityId: undefined, status: 'deleted', updatedAt: at });
        assert.equal(await setInstrumentStatus(randomUUID(), 'deleted', now()), false);
        const raced = await saved(f);
        const results = await Promise.all(Array.from({ length: 4 }, () => setInstrumentStatus(raced.id, 'deleted', now())));
        assert.equal(results.filter(Boolean).length, 1);
      });

      test('byHolder: the holder\'s instruments of this merchant, newest first, at most 50; registrations (with an entity) are never among them', async () => {
        const f = await merchant();
        const other = await merchant();
        const holder = `holder-${id()}`;
        const oldest = await saved(f, { holderReference: holder });
        const deleted = await saved(f, { holderReference: holder, status: 'deleted' });
        const newest = await saved(f, { holderReference: holder, status: 'transient' });
        // A registration with the same holder reference, and the empty one registrations carry.
        const registration = await saved(f, { holderReference: holder, entityId: f.entity.id });
        const plainRegistration = await saved(f, { holderReference: '', entityId: f.entity.id });
        await saved(f, { holderReference: `${holder}-2` });
        await saved(other, { holderReference: holder });
        const found = await instruments.byHolder(f.merchant.id, holder);
        assert.deepEqual(found.map((i) => i.id), [newest.id, deleted.id, oldest.id], 'status is the service\'s filter, the store returns them all');
        assert.ok(!found.some((i) => i.id === registration.id || i.id === plainRegistration.id));
        assert.deepEqual(found[2], { ...oldest, entityId: undefined });
        assert.deepEqual(await instruments.byHolder(f.merchant.id, ''), [], 'registrations are no holder\'s saved cards');
        assert.deepEqual(await instruments.byHolder(id(), holder), []);
        const many = `many-${id()}`;
        for (let n = 0; n < 51; n++) await saved(f, { holderReference: many });
        assert.equal((await instruments.byHolder(f.merchant.id, many)).length, 50);
      });
    });

    describe('tokenization key store', () => {
      test('insertKey / key round-trip; freshestKey is the one that expires last; a duplicate id is refused', async () => {
        const T = Date.UTC(2100, 0, 1);
        const key = (expiresAt: number) => ({
          id: randomUUID(), publicKey: randomBytes(294).toString('base64'), sealedPrivateKey: randomBytes(1200).toString('base64'), createdAt: now(), expiresAt,
        });
        const [early, late, middle] = [key(T + 1000), key(T + 3000), key(T + 2000)];
        for (const k of [early, late, middle]) await tokenizationKeys.insertKey(k);
        assert.deepEqual(await tokenizationKeys.key(middle.id), middle);
        assert.equal(typeof (await tokenizationKeys.key(middle.id))!.expiresAt, 'number');
        assert.deepEqual(await tokenizationKeys.freshestKey(), late);
        assert.equal(await tokenizationKeys.key(randomUUID()), undefined);
        await assert.rejects(tokenizationKeys.insertKey({ ...early, publicKey: 'other' }));
        assert.deepEqual(await tokenizationKeys.key(early.id), early, 'the first insert stands');
      });
    });

    describe('throttle store', () => {
      test('hit(): first two allowed, third refused, hits older than `since` forgotten', async () => {
        const key = `ip:${id()}`;
        const other = `ip:${id()}`;
        const T = 1_700_000_000_000;
        assert.deepEqual(await throttle.hit(key, T, T - 1000, 2), { allowed: true, oldest: T });
        assert.deepEqual(await throttle.hit(key, T + 10, T - 990, 2), { allowed: true, oldest: T });
        assert.deepEqual(await throttle.hit(key, T + 20, T - 980, 2), { allowed: false, oldest: T });
        // A refused hit is not counted, and another key has its own window.
        assert.deepEqual(await throttle.hit(other, T + 20, T - 980, 2), { allowed: true, oldest: T + 20 });
        // The hit at T falls out of the window; the one at T + 10 stays.
        assert.deepEqual(await throttle.hit(key, T + 30, T + 5, 2), { allowed: true, oldest: T + 10 });
        assert.deepEqual(await throttle.hit(key, T + 40, T + 5, 2), { allowed: false, oldest: T + 10 });
        // Everything falls out.
        assert.deepEqual(await throttle.hit(key, T + 5000, T + 4000, 2), { allowed: true, oldest: T + 5000 });
        // `oldest` comes back from the database as a number (bigint column on PostgreSQL).
        assert.deepEqual(await throttle.hit(key, T + 5001, T + 4000, 2), { allowed: true, oldest: T + 5000 });
      });

      test('10 concurrent hits on one key with limit 2: exactly 2 allowed', async () => {
        const key = `ip:${id()}`;
        const T = 1_700_000_000_000;
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => throttle.hit(key, T + i, T - 60_000, 2)));
        assert.equal(results.filter((r) => r.allowed).length, 2);
        assert.equal(results.filter((r) => !r.allowed).length, 8);
      });
    });
  });
}

conformance('store conformance: SQLite', openSqliteLocation);

const pgUp = await postgresAvailable();
conformance('store conformance: PostgreSQL', openPostgresLocation, pgUp ? {} : {
  skip: `PostgreSQL is not reachable at ${testPostgresUrl.replace(/\/\/[^@]*@/, '//***@')} (set TEST_DATABASE_URL); CI fails instead of skipping`,
});
