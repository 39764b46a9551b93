/**
 * Store conformance: the same assertions, through the store interfaces, against both adapters —
 * the embedded SQLite store and PostgreSQL (a throwaway schema per run, dropped afterwards).
 * The PostgreSQL half is skipped when no server answers; the test command fails under CI then.
 */
import { after, before, describe, test } from 'node:test';
import { createCvvHoldStore } from '../src/vault/cvv-hold-store.ts';
import { createLateApprovalStore } from '../src/payments/late-approvals-store.ts';
import type { LateApproval } from '../src/payments/late-approvals.ts';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { seal, unseal } from '../src/runtime/crypto.ts';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { sql } from 'kysely';
import { createChallengeStore } from '../src/threeds/kysely-store.ts';
import type { Challenge, ChallengeStore } from '../src/threeds/store.ts';
import { migrationNames, openStorage, type Storage } from '../src/storage/database.ts';
import { createUnitOfWork, type Tx } from '../src/storage/unit-of-work.ts';
import { createWebhookStore } from '../src/webhooks/kysely-store.ts';
import type { DeliveryRecord, EndpointRecord, WebhookStore } from '../src/webhooks/store.ts';
import { addOutboxEvent, outboxWriterOf } from '../src/webhooks/outbox.ts';
import { runForRequest } from '../src/runtime/request-context.ts';
import { traceFrom } from '../src/runtime/trace.ts';
import { createMerchantStore } from '../src/merchants/kysely-store.ts';
import type { MerchantStore } from '../src/merchants/store.ts';
import type { CredentialKind, Entity, Merchant } from '../src/merchants/model.ts';
import { createVaultStore } from '../src/vault/kysely-store.ts';
import type { StoredCard, VaultStore } from '../src/vault/store.ts';
import { createPaymentStore, pspAccountInUse } from '../src/payments/kysely-store.ts';
import type { AttemptRecord, OperationRecord, PaymentRecord, PaymentStore, PaymentWriter, Settlement } from '../src/payments/store.ts';
import type { OperationStatus } from '../src/payments/model.ts';
import { isCurrency, type Currency } from '../src/money/money.ts';
import { createThrottleStore } from '../src/throttle/kysely-store.ts';
import type { ThrottleStore } from '../src/throttle/store.ts';
import { createExecutionStore, executionChannelOf, executionChannelsOf, sharedExecutionChannel } from '../src/executions/kysely-store.ts';
import type { ExecutionStore, ExecutionWriter } from '../src/executions/store.ts';
import type { ExecutionRecord } from '../src/executions/model.ts';
import { createIdempotencyStore } from '../src/idempotency/kysely-store.ts';
import { createIdempotency } from '../src/idempotency/service.ts';
import type { IdempotencyRow, IdempotencyStore } from '../src/idempotency/store.ts';
import { createWorkflowStore } from '../src/workflows/kysely-store.ts';
import type { PspAccount, WorkflowStore } from '../src/workflows/store.ts';
import { createInstrumentStore, createTokenizationKeyStore, vaultWriterOf } from '../src/vault/kysely-store.ts';
import type { InstrumentRecord, InstrumentStatus, InstrumentStore, TokenizationKeyStore, VaultWriter } from '../src/vault/store.ts';
import type { OutboxEvent } from '../src/webhooks/outbox.ts';
import { manualClock } from '../src/runtime/clock.ts';
import { randomUUID } from 'node:crypto';
import { createCheckoutStore } from '../src/checkouts/kysely-store.ts';
import type { CheckoutRecord } from '../src/checkouts/model.ts';
import { postgresAvailable, tempDir, testPostgresUrl } from './support/harness.ts';
import { createLedgerStore } from '../src/ledger/kysely-store.ts';
import { createSettlementStore } from '../src/ledger/settlement-store.ts';
import { balancesOf, clawbackLeg, type Posting } from '../src/ledger/model.ts';
import { settledKey } from '../src/ledger/reconciliation.ts';
import type { DiscrepancyRecord } from '../src/ledger/store.ts';
import { createDashboardStore } from '../src/dashboard/kysely-store.ts';
import { createPaymentSearch } from '../src/search/kysely-store.ts';
import { decodeCursor } from '../src/search/model.ts';

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
    createdAt: now(), tokenGeneration: 1, ...overrides,
  };
  const entity: Entity = { id: id(), merchantId: merchant.id, channelName: 'web shop', uniqueMerchantTransactionId: false };
  return { merchant, entity, credentials: [{ digest: digest(), kind: 'opp_bearer' }, { digest: digest(), kind: 'api_key' }] };
}

function newPayment(f: Fixture, overrides: Partial<PaymentRecord> = {}): PaymentRecord {
  const at = now();
  return {
    id: id(), merchantId: f.merchant.id, channel: 'opp', entityId: f.entity.id, initialKind: 'sale', status: 'pending',
    amount: 9200, currency: 'EUR', cardId: undefined, method: 'card', live: false, pspAccountId: undefined, workflowCode: undefined,
    version: 1, createdAt: at, updatedAt: at, ...overrides,
  };
}

/** Next position within each payment, so that fixtures respect the unique (payment_id, seq). */
const nextSeq = new Map<string, number>();

function newOperation(p: PaymentRecord, overrides: Partial<OperationRecord> = {}): OperationRecord {
  const at = now();
  const seq = overrides.seq ?? nextSeq.get(p.id) ?? 0;
  nextSeq.set(p.id, Math.max(seq + 1, nextSeq.get(p.id) ?? 0));
  return {
    id: id(), paymentId: p.id, seq, merchantId: p.merchantId, entityId: p.entityId, kind: p.initialKind,
    status: 'pending', amount: { amount: p.amount, currency: currency(p.currency) }, referencedId: undefined, resultCode: undefined,
    reason: undefined, pspReference: undefined, merchantTransactionId: undefined, shortId: randomBytes(7).toString('hex').slice(0, 14),
    context: {}, details: {}, unknownSince: undefined, createdAt: at, updatedAt: at, ...overrides,
  };
}

function newAttempt(o: OperationRecord, seq: number, overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  const at = now();
  return {
    id: id(), paymentId: o.paymentId, operationId: o.id, seq, accountId: id(), accountName: `psp-${seq}`, connector: 'simulator',
    authenticated: seq % 2 === 1, status: 'pending', reason: undefined, resultCode: undefined, pspReference: undefined,
    createdAt: at, updatedAt: at, ...overrides,
  };
}

/** A settlement with nothing but its status and time unless told otherwise. */
const settlement = (status: OperationStatus, at: number, overrides: Partial<Settlement> = {}): Settlement => ({
  status, reason: undefined, resultCode: undefined, pspReference: undefined, details: {}, at, ...overrides,
});

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
    let workflows: WorkflowStore;
    let instruments: InstrumentStore;
    let tokenizationKeys: TokenizationKeyStore;
    let vaultWriter: (tx: Tx) => VaultWriter;
    let addPaymentEvent: (tx: Tx, e: OutboxEvent) => Promise<void>;

    before(async () => {
      opened = await open();
      db = opened.storage.db;
      const uow = opened.storage.uow;
      merchants = createMerchantStore(uow);
      vault = createVaultStore(uow);
      payments = createPaymentStore(uow);
      throttle = createThrottleStore(uow);
      webhooks = createWebhookStore(uow);
      const redirectKey = randomBytes(32);
      challenges = createChallengeStore(uow, {
        seal: (text, context) => seal(redirectKey, Buffer.from(text, 'utf8'), context),
        open: async (sealed, context) => unseal(redirectKey, sealed, context).toString('utf8'),
      });
      executions = createExecutionStore(uow, opened.storage.schema !== undefined ? executionChannelsOf(opened.storage.schema) : []);
      keys = createIdempotencyStore(uow);
      workflows = createWorkflowStore(uow, pspAccountInUse);
      instruments = createInstrumentStore(uow);
      tokenizationKeys = createTokenizationKeyStore(uow);
      vaultWriter = vaultWriterOf(db);
      addPaymentEvent = outboxWriterOf(db);
    });
    after(async () => {
      await opened?.storage.close();
      await opened?.destroy();
    });

    /** One unit of work with the payment, vault and outbox writers, as the payment service composes them. */
    const payWrite = <T>(fn: (w: PaymentWriter & VaultWriter & { addEvent(e: OutboxEvent): Promise<void> }) => Promise<T>) =>
      opened.storage.uow.run((tx) => fn({ ...payments.writer(tx), ...vaultWriter(tx), addEvent: (e: OutboxEvent) => addPaymentEvent(tx, e) }));
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
          assert.ok(migrationNames.includes('050_engine'));
          // 050: attempts have their own table (the cascade's is gone) and PSP accounts name connector and settings.
          await assert.rejects(again.db.selectFrom('cascade_attempts' as never).selectAll().execute());
          assert.ok(Array.isArray(await again.db.selectFrom('attempts').select('id').limit(1).execute()));
          assert.ok(Array.isArray(await again.db.selectFrom('psp_accounts').select(['connector', 'settings']).limit(1).execute()));
          await assert.rejects(again.db.selectFrom('psp_accounts').select('behaviour' as never).execute());
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
      test('entity(): an entity another node creates after a miss is found (only entities found are kept); a rotation refuses the old secret at once', async () => {
        const f = await merchant();
        const otherNode = createMerchantStore(opened.storage.uow);
        const later = { id: id(), merchantId: f.merchant.id, channelName: 'later', uniqueMerchantTransactionId: true };
        assert.equal(await merchants.entity(later.id), undefined);
        assert.equal(await otherNode.insertEntity(later, now()), true);
        assert.deepEqual(await merchants.entity(later.id), later);
        assert.deepEqual(await merchants.entity(later.id), later, 'and again, as kept');
        const bearer = f.credentials.find((c) => c.kind === 'opp_bearer')!;
        assert.deepEqual(await merchants.byCredential(bearer.digest, 'opp_bearer'), f.merchant);
        await otherNode.replaceCredentials(f.merchant.id, [{ digest: digest(), kind: 'opp_bearer' }], false, now());
        assert.equal(await merchants.byCredential(bearer.digest, 'opp_bearer'), undefined, 'the old bearer, rotated on another node, is refused');
      });

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

      test('replaceCredentials swaps the digests of the kinds given, moves the token generation on when asked, and knows no unknown merchant', async () => {
        const a = await merchant();
        const b = await merchant();
        const [bearer, apiKey] = [digest(), digest()];
        const afterOpp = await merchants.replaceCredentials(a.merchant.id, [{ digest: bearer, kind: 'opp_bearer' }], false, now());
        assert.deepEqual(afterOpp, a.merchant);
        assert.equal(await merchants.byCredential(a.credentials[0]!.digest, 'opp_bearer'), undefined);
        assert.deepEqual(await merchants.byCredential(bearer, 'opp_bearer'), a.merchant);
        // The kind not named keeps its secret.
        assert.deepEqual(await merchants.byCredential(a.credentials[1]!.digest, 'api_key'), a.merchant);
        const afterKey = await merchants.replaceCredentials(a.merchant.id, [{ digest: apiKey, kind: 'api_key' }], true, now());
        assert.equal(afterKey?.tokenGeneration, 2);
        assert.equal(await merchants.byCredential(a.credentials[1]!.digest, 'api_key'), undefined);
        assert.equal((await merchants.byCredential(apiKey, 'api_key'))?.tokenGeneration, 2);
        assert.equal((await merchants.byId(a.merchant.id))?.tokenGeneration, 2);
        // Another merchant is untouched.
        assert.deepEqual(await merchants.byCredential(b.credentials[0]!.digest, 'opp_bearer'), b.merchant);
        assert.deepEqual(await merchants.byCredential(b.credentials[1]!.digest, 'api_key'), b.merchant);
        const unknown = digest();
        assert.equal(await merchants.replaceCredentials(id(), [{ digest: unknown, kind: 'opp_bearer' }], true, now()), undefined);
        assert.equal(await merchants.byCredential(unknown, 'opp_bearer'), undefined);
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
      test('write() commits everything it wrote together and returns its value; every field round-trips', async () => {
        const f = await merchant();
        const card = newCard(f.merchant.id, { holder: undefined });
        const p = newPayment(f, { cardId: card.id, initialKind: 'authorize' });
        const o = newOperation(p, {
          merchantTransactionId: `order-${id()}`, context: { customer: { email: 'a@b.c' }, customParameters: { x: '1' }, n: [1, null] },
          details: { '3ds.eci': '05' },
        });
        const a = newAttempt(o, 0, { authenticated: true });
        // An executions payment: no /v1 entity, a live merchant, routed by a workflow to an account.
        const e = newPayment(f, { channel: 'executions', entityId: undefined, live: true, pspAccountId: id(), workflowCode: 'payment-acceptance', method: 'bank_transfer' });
        const eo = newOperation(e, { kind: 'authorize', status: 'unknown', reason: 'provider_error', resultCode: '900.100.300', pspReference: 'psp-9', unknownSince: e.createdAt + 1 });
        const eventId = id();
        const result = await payWrite(async (w) => {
          await w.insertCard(card);
          await w.insertPayment(p);
          assert.equal(await w.insertOperation(o), true);
          assert.equal(await w.insertAttempt(a), true);
          await w.insertPayment(e);
          assert.equal(await w.insertOperation(eo), true);
          await w.addEvent({ id: eventId, merchantId: f.merchant.id, type: 'payment.created', subjectId: p.id, payload: { id: p.id, n: 1 }, createdAt: p.createdAt });
          return 'done';
        });
        assert.equal(result, 'done');
        assert.deepEqual(await vault.card(card.id), card);
        assert.deepEqual(await payments.payment(p.id), p);
        assert.deepEqual(await payments.operation(o.id), o);
        assert.deepEqual(await payments.operationsOf(p.id), [o]);
        assert.deepEqual(await payments.attemptsOf(p.id), [a]);
        const re = await payments.payment(e.id);
        assert.deepEqual(re, e);
        assert.ok(re && 'entityId' in re && re.entityId === undefined);
        assert.equal(re.live, true);
        assert.deepEqual(await payments.operation(eo.id), eo);
        assert.deepEqual(await payments.attemptsOf(e.id), []);
        assert.equal(await payments.payment(id()), undefined);
        assert.equal(await payments.operation(id()), undefined);
        assert.deepEqual(await payments.operationsOf(id()), []);
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
        const o = newOperation(p);
        const a = newAttempt(o, 0);
        const eventId = id();
        const boom = new Error('boom after the inserts');
        await assert.rejects(payWrite(async (w) => {
          await w.insertCard(card);
          await w.insertPayment(p);
          await w.insertOperation(o);
          await w.insertAttempt(a);
          await w.addEvent({ id: eventId, merchantId: f.merchant.id, type: 'payment.created', subjectId: p.id, payload: {}, createdAt: p.createdAt });
          throw boom;
        }), (e) => e === boom);
        assert.equal(await vault.card(card.id), undefined);
        assert.equal(await payments.payment(p.id), undefined);
        assert.equal(await payments.operation(o.id), undefined);
        assert.deepEqual(await payments.operationsOf(p.id), []);
        assert.deepEqual(await payments.attemptsOf(p.id), []);
        assert.equal(await outboxRow(eventId), undefined);

        // A database error mid-way (an operation of an unknown payment: foreign key) rolls back as well.
        const p2 = newPayment(f);
        await assert.rejects(payWrite(async (w) => {
          await w.insertPayment(p2);
          await w.insertOperation(newOperation(newPayment(f)));
        }));
        assert.equal(await payments.payment(p2.id), undefined);

        // Updates are rolled back too, and the store keeps working afterwards.
        const p3 = newPayment(f);
        const o3 = newOperation(p3);
        const a3 = newAttempt(o3, 0);
        await payWrite(async (w) => { await w.insertPayment(p3); await w.insertOperation(o3); await w.insertAttempt(a3); });
        await assert.rejects(payWrite(async (w) => {
          await w.settleAttempt(a3, settlement('succeeded', now(), { resultCode: '000.100.110', pspReference: 'psp-1' }));
          await w.settleOperation(o3.id, settlement('succeeded', now(), { resultCode: '000.100.110', pspReference: 'psp-1' }));
          await w.updatePayment(p3.id, { status: 'captured', pspAccountId: a3.accountId }, now());
          await w.insertAttempt(newAttempt(o3, 1));
          throw new Error('abandon');
        }));
        assert.deepEqual(await payments.operation(o3.id), o3);
        assert.deepEqual(await payments.payment(p3.id), p3);
        assert.deepEqual(await payments.attemptsOf(p3.id), [a3]);
      });

      test('lock() returns the payment, its operations in order (seq) and its attempts; undefined when unknown', async () => {
        const f = await merchant();
        const p = newPayment(f, { initialKind: 'authorize' });
        const at = now();
        // Inserted out of order, all within the same millisecond, ids in reverse order of seq.
        const ids = [id(), id(), id(), id()].sort().reverse();
        const [o0, o1, o2, o3] = ([['authorize', 0], ['capture', 1], ['refund', 2], ['refund', 3]] as const).map(([kind, seq]) =>
          newOperation(p, { id: ids[seq]!, kind, seq, createdAt: at, updatedAt: at }));
        // Attempts of the opening operation (a cascade) and of a refund: oldest first, then by seq.
        const a0 = newAttempt(o0!, 0, { status: 'failed', reason: 'soft', resultCode: '800.100.152', createdAt: at, updatedAt: at });
        const a1 = newAttempt(o0!, 1, { status: 'succeeded', pspReference: 'psp-1', createdAt: at, updatedAt: at });
        const r0 = newAttempt(o2!, 0, { createdAt: at + 1, updatedAt: at + 1 });
        // An attempt of a later operation that is older than the others comes first all the same.
        const early = newAttempt(o3!, 0, { status: 'unknown', createdAt: at - 1, updatedAt: at - 1 });
        await payWrite(async (w) => {
          await w.insertPayment(p);
          for (const o of [o2!, o0!, o3!, o1!]) assert.equal(await w.insertOperation(o), true);
          for (const a of [r0, a1, early, a0]) assert.equal(await w.insertAttempt(a), true);
        });
        const locked = await payWrite((w) => w.lock(p.id));
        assert.deepEqual(locked, { payment: p, operations: [o0, o1, o2, o3], attempts: [early, a0, a1, r0] });
        assert.deepEqual(await payments.operationsOf(p.id), [o0, o1, o2, o3]);
        assert.deepEqual(await payments.attemptsOf(p.id), [early, a0, a1, r0]);
        assert.equal(await payWrite((w) => w.lock(id())), undefined);

        // Attempts of two operations made in the same millisecond at the same seq: one order in both reads, by id.
        const q = newPayment(f);
        const [x, y] = [id(), id()].sort().reverse().map((oid, seq) => newOperation(q, { id: oid, seq, kind: seq === 0 ? 'authorize' : 'capture', createdAt: at, updatedAt: at }));
        const [ax, ay] = [x!, y!].map((o) => newAttempt(o, 0, { id: o.id, createdAt: at, updatedAt: at }));
        await payWrite(async (w) => { await w.insertPayment(q); for (const o of [x!, y!]) await w.insertOperation(o); for (const a of [ax!, ay!]) await w.insertAttempt(a); });
        const byId = [ax!, ay!].sort((a, b) => (a.id < b.id ? -1 : 1));
        assert.deepEqual((await payWrite((w) => w.lock(q.id)))?.attempts, byId);
        assert.deepEqual(await payments.attemptsOf(q.id), byId);
      });

      test('a second operation at the same seq of a payment is refused', async () => {
        const f = await merchant();
        const p = newPayment(f);
        const o0 = newOperation(p, { seq: 0 });
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o0); });
        await assert.rejects(payWrite((w) => w.insertOperation(newOperation(p, { seq: 0, kind: 'capture' }))));
        // The same seq in another payment is fine.
        const q = newPayment(f);
        await payWrite(async (w) => { await w.insertPayment(q); await w.insertOperation(newOperation(q, { seq: 0 })); });
        assert.deepEqual(await payments.operationsOf(p.id), [o0]);
      });

      test('settleOperation, settleAttempt, updatePayment and addEvent take effect', async () => {
        const f = await merchant();
        const p = newPayment(f);
        const o = newOperation(p);
        const a = newAttempt(o, 0);
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); await w.insertAttempt(a); });
        const settledAt = now();
        const eventId = id();
        const details = { ConnectorTxID1: 'abc', AcquirerResponse: '00' };
        await payWrite(async (w) => {
          const locked = await w.lock(p.id);
          assert.ok(locked);
          await w.settleAttempt(a, settlement('succeeded', settledAt, { resultCode: '000.100.110', pspReference: 'psp-8f3a', details }));
          await w.settleOperation(o.id, settlement('succeeded', settledAt, { resultCode: '000.100.110', pspReference: 'psp-8f3a', details }));
          await w.updatePayment(p.id, { status: 'captured', pspAccountId: a.accountId }, settledAt);
          await w.addEvent({ id: eventId, merchantId: f.merchant.id, type: 'payment.captured', subjectId: p.id, payload: { status: 'captured', amount: p.amount }, createdAt: settledAt });
        });
        assert.deepEqual(await payments.operation(o.id), {
          ...o, status: 'succeeded', resultCode: '000.100.110', pspReference: 'psp-8f3a', details, updatedAt: settledAt,
        });
        assert.deepEqual(await payments.attemptsOf(p.id), [{ ...a, status: 'succeeded', resultCode: '000.100.110', pspReference: 'psp-8f3a', updatedAt: settledAt }]);
        assert.deepEqual(await payments.payment(p.id), { ...p, status: 'captured', pspAccountId: a.accountId, updatedAt: settledAt, version: p.version + 1 });
        const ev = await outboxRow(eventId);
        assert.ok(ev);
        assert.deepEqual(JSON.parse(ev.payload), { status: 'captured', amount: p.amount });

        // A second status change bumps the version again and, naming no account, keeps the one that holds the money;
        // a decline stores its reason and no PSP reference.
        const o2 = newOperation(p, { kind: 'refund' });
        const a2 = newAttempt(o2, 0);
        await payWrite(async (w) => {
          await w.insertOperation(o2);
          await w.insertAttempt(a2);
          await w.settleAttempt(a2, settlement('failed', settledAt + 5, { reason: 'hard', resultCode: '800.100.100' }));
          await w.settleOperation(o2.id, settlement('failed', settledAt + 5, { reason: 'hard', resultCode: '800.100.100' }));
          await w.updatePayment(p.id, { status: 'captured' }, settledAt + 5);
        });
        const o2after = await payments.operation(o2.id);
        assert.deepEqual(o2after, { ...o2, status: 'failed', reason: 'hard', resultCode: '800.100.100', updatedAt: settledAt + 5 });
        assert.equal((await payments.attemptsOf(p.id)).find((x) => x.id === a2.id)?.reason, 'hard');
        assert.deepEqual(await payments.payment(p.id), { ...p, status: 'captured', pspAccountId: a.accountId, updatedAt: settledAt + 5, version: p.version + 2 });
        // Naming the account as undefined clears it.
        await payWrite((w) => w.updatePayment(p.id, { status: 'refunded', pspAccountId: undefined }, settledAt + 6));
        assert.deepEqual(await payments.payment(p.id), { ...p, status: 'refunded', updatedAt: settledAt + 6, version: p.version + 3 });
      });

      test('settleOperation keeps unknownSince only while it says so; touchOperation changes nothing but the time', async () => {
        const f = await merchant();
        const p = newPayment(f);
        const o = newOperation(p);
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); });
        const lostAt = now();
        await payWrite((w) => w.settleOperation(o.id, settlement('unknown', lostAt, { details: { timeout: 'psp' } }), lostAt));
        const lost = await payments.operation(o.id);
        assert.deepEqual(lost, { ...o, status: 'unknown', details: { timeout: 'psp' }, unknownSince: lostAt, updatedAt: lostAt });
        assert.equal(typeof lost?.unknownSince, 'number');
        const touchedAt = now();
        await payWrite((w) => w.touchOperation(o.id, touchedAt));
        assert.deepEqual(await payments.operation(o.id), { ...lost, updatedAt: touchedAt });
        const settledAt = now();
        await payWrite((w) => w.settleOperation(o.id, settlement('succeeded', settledAt, { pspReference: 'psp-late' })));
        assert.deepEqual(await payments.operation(o.id), { ...o, status: 'succeeded', pspReference: 'psp-late', unknownSince: undefined, updatedAt: settledAt });
      });

      test('operationNamed finds a merchant\'s operation by its id or its PSP reference, and none of another merchant', async () => {
        const f = await merchant();
        const g = await merchant();
        const p = newPayment(f);
        const o = newOperation(p);
        const reference = `psp-${id()}`;
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); });
        await payWrite((w) => w.settleOperation(o.id, settlement('succeeded', now(), { pspReference: reference, details: { networkTransactionId: 'MCC000123' } })));
        assert.equal((await payments.operationNamed(f.merchant.id, o.id))?.id, o.id);
        const byReference = await payments.operationNamed(f.merchant.id, reference);
        assert.deepEqual([byReference?.id, byReference?.details.networkTransactionId], [o.id, 'MCC000123']);
        assert.equal(await payments.operationNamed(g.merchant.id, o.id), undefined, 'another merchant\'s');
        assert.equal(await payments.operationNamed(g.merchant.id, reference), undefined);
        assert.equal(await payments.operationNamed(f.merchant.id, `psp-${id()}`), undefined);
      });

      test('approvedWithCard: a payment with the card was approved, whatever became of it since; declined, pending or none is not', async () => {
        const f = await merchant();
        const c = newCard(f.merchant.id);
        const other = newCard(f.merchant.id);
        await payWrite(async (w) => { await w.insertCard(c); await w.insertCard(other); });
        assert.equal(await payments.approvedWithCard(c.id), false, 'no payment');
        const declined = newPayment(f, { cardId: c.id, status: 'declined' });
        const pending = newPayment(f, { cardId: c.id, status: 'pending' });
        await payWrite(async (w) => { for (const p of [declined, pending]) await w.insertPayment(p); });
        assert.equal(await payments.approvedWithCard(c.id), false, 'declined and pending only');
        await payWrite((w) => w.insertPayment(newPayment(f, { cardId: c.id, status: 'reversed' })));
        assert.equal(await payments.approvedWithCard(c.id), true, 'approved, then voided');
        assert.equal(await payments.approvedWithCard(other.id), false, 'another card\'s');
      });

      test('firstChargeOpen: the payment with the card made at that time has no outcome yet (pending or unknown)', async () => {
        const f = await merchant();
        const c = newCard(f.merchant.id);
        await payWrite((w) => w.insertCard(c));
        const first = newPayment(f, { cardId: c.id, status: 'pending' });
        assert.equal(await payments.firstChargeOpen(c.id, first.createdAt), false, 'no payment');
        await payWrite((w) => w.insertPayment(first));
        assert.equal(await payments.firstChargeOpen(c.id, first.createdAt), true, 'pending');
        assert.equal(await payments.firstChargeOpen(c.id, first.createdAt + 1), false, 'another time: a later payment with the registration');
        await payWrite((w) => w.updatePayment(first.id, { status: 'unknown' }, now()));
        assert.equal(await payments.firstChargeOpen(c.id, first.createdAt), true, 'unknown');
        await payWrite((w) => w.updatePayment(first.id, { status: 'captured' }, now()));
        assert.equal(await payments.firstChargeOpen(c.id, first.createdAt), false, 'an outcome');
        const other = newCard(f.merchant.id);
        await payWrite((w) => w.insertCard(other));
        assert.equal(await payments.firstChargeOpen(other.id, first.createdAt), false, 'another card\'s');
      });

      test('capturesEndedBetween reads captures that ended with a status in a window, after a cursor, oldest first', async () => {
        const f = await merchant();
        const p = newPayment(f);
        const base = now();
        const ops = [0, 1, 2].map((i) => newOperation(p, { seq: i + 1, kind: 'capture' }));
        const refund = newOperation(p, { seq: 4, kind: 'refund' });
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(newOperation(p, { seq: 0 })); for (const o of [...ops, refund]) await w.insertOperation(o); });
        await payWrite(async (w) => {
          for (const [i, o] of ops.entries()) await w.settleOperation(o.id, settlement(i === 2 ? 'failed' : 'succeeded', base + 10 * (i + 1)));
          await w.settleOperation(refund.id, settlement('succeeded', base + 15));
        });
        const ids = async (status: 'succeeded' | 'failed', from: number, to: number, after?: { updatedAt: number; id: string }) =>
          (await payments.capturesEndedBetween(status, from, to, after, 10)).map((o) => o.id);
        assert.deepEqual(await ids('succeeded', base, base + 30), [ops[0]!.id, ops[1]!.id], 'captures only, oldest first');
        assert.deepEqual(await ids('succeeded', base + 10, base + 30), [ops[1]!.id], 'the window\'s start is excluded');
        assert.deepEqual(await ids('succeeded', base, base + 19), [ops[0]!.id], 'its end included, nothing after it');
        assert.deepEqual(await ids('succeeded', base, base + 30, { updatedAt: base + 10, id: ops[0]!.id }), [ops[1]!.id], 'after the cursor');
        assert.deepEqual(await ids('failed', base, base + 30), [ops[2]!.id]);
      });

      test('byMerchantTransactionId is scoped to the entity, oldest first', async () => {
        const f = await merchant();
        const g = await merchant();
        const mtx = `order-${id()}`;
        const p1 = newPayment(f);
        const p2 = newPayment(f);
        const o1 = newOperation(p1, { merchantTransactionId: mtx });
        const o2 = newOperation(p2, { merchantTransactionId: mtx });
        const pg2 = newPayment(g);
        const oOther = newOperation(pg2, { merchantTransactionId: mtx });
        // An executions payment has no entity: never found by a /v1 entity's query.
        const ex = newPayment(f, { channel: 'executions', entityId: undefined });
        const oEx = newOperation(ex, { merchantTransactionId: mtx });
        await payWrite(async (w) => {
          await w.insertPayment(p1);
          await w.insertOperation(o1);
          await w.insertPayment(p2);
          await w.insertOperation(o2);
        });
        await payWrite(async (w) => { await w.insertPayment(pg2); await w.insertOperation(oOther); await w.insertPayment(ex); await w.insertOperation(oEx); });

        assert.deepEqual(await payments.byMerchantTransactionId(f.entity.id, mtx), [o1, o2]);
        assert.deepEqual(await payments.byMerchantTransactionId(g.entity.id, mtx), [oOther]);
        assert.deepEqual(await payments.byMerchantTransactionId(f.entity.id, `order-${id()}`), []);
      });

      test('an attempt on an operation of the same unit: taken at once; the slot taken twice within the unit fails the unit and keeps nothing', async () => {
        const f = await merchant();
        const p = newPayment(f);
        const o = newOperation(p);
        const a = newAttempt(o, 0);
        assert.equal(await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); return w.insertAttempt(a); }), true);
        assert.deepEqual(await payments.attemptsOf(p.id), [a]);
        // On an operation of an earlier unit the slot is asked about: taken, so false.
        assert.equal(await payWrite((w) => w.insertAttempt({ ...newAttempt(o, 0), id: id() })), false);

        const q = newPayment(f);
        const oq = newOperation(q);
        await assert.rejects(payWrite(async (w) => {
          await w.insertPayment(q);
          await w.insertOperation(oq);
          await w.insertAttempt(newAttempt(oq, 0));
          await w.insertAttempt({ ...newAttempt(oq, 0), id: id() });
          // A held insert's clash surfaces at the latest when the unit's answer is read.
          await w.lock(q.id);
        }));
        assert.equal(await payments.payment(q.id), undefined, 'nothing of the failed unit was kept');

        // An operation whose unique merchant transaction id was refused was not inserted: its slot is asked about.
        const mtx = `order-${id()}`;
        const r = newPayment(f);
        const or = newOperation(r, { merchantTransactionId: mtx });
        await payWrite(async (w) => { await w.insertPayment(r); await w.insertOperation(or, { uniqueMerchantTransactionId: true }); await w.insertAttempt(newAttempt(or, 0)); });
        const dup = newPayment(f);
        const odup = { ...newOperation(dup, { merchantTransactionId: mtx }), id: or.id };
        assert.deepEqual(await payWrite(async (w) => {
          await w.insertPayment(dup);
          return [await w.insertOperation(odup, { uniqueMerchantTransactionId: true }), await w.insertAttempt({ ...newAttempt(or, 0), id: id() })];
        }), [false, false]);
      });
      test('lock of a payment that does not exist answers undefined, and the unit goes on', async () => {
        const f = await merchant();
        const p = newPayment(f);
        assert.equal(await payWrite(async (w) => {
          assert.equal(await w.lock(`missing-${id()}`), undefined);
          await w.insertPayment(p);
          return (await w.lock(p.id))?.payment.id;
        }), p.id);
      });
      test('uniqueMerchantTransactionId: a second opening operation with the id on the entity is refused, and the unit of work goes on', async () => {
        const f = await merchant();
        const g = await merchant();
        const mtx = `order-${id()}`;
        const unique = { uniqueMerchantTransactionId: true };
        const first = newPayment(f);
        const o1 = newOperation(first, { merchantTransactionId: mtx });
        assert.equal(await payWrite(async (w) => { await w.insertPayment(first); return w.insertOperation(o1, unique); }), true);

        const dup = newPayment(f);
        const oDup = newOperation(dup, { merchantTransactionId: mtx });
        const after = newPayment(f);
        const oAfter = newOperation(after, { merchantTransactionId: `order-${id()}` });
        const refused = await payWrite(async (w) => {
          await w.insertPayment(dup);
          const inserted = await w.insertOperation(oDup, unique);
          // On PostgreSQL a failed statement would abort the transaction: the refusal must leave it usable.
          await w.insertPayment(after);
          await w.insertOperation(oAfter, unique);
          return inserted;
        });
        assert.equal(refused, false);
        assert.equal(await payments.operation(oDup.id), undefined, 'nothing written');
        assert.deepEqual(await payments.operation(oAfter.id), oAfter);
        assert.deepEqual(await payments.byMerchantTransactionId(f.entity.id, mtx), [o1]);

        // Another entity has its own ids.
        const other = newPayment(g);
        const oOther = newOperation(other, { merchantTransactionId: mtx });
        assert.equal(await payWrite(async (w) => { await w.insertPayment(other); return w.insertOperation(oOther, unique); }), true);

        // Without the flag the same id is taken again (entities that allow duplicates, follow-ups filed under the payment's id).
        const free = newPayment(f);
        const oFree = newOperation(free, { merchantTransactionId: mtx });
        const capture = newOperation(first, { kind: 'capture', merchantTransactionId: mtx });
        assert.deepEqual(await payWrite(async (w) => {
          await w.insertPayment(free);
          return [await w.insertOperation(oFree), await w.insertOperation(capture, { uniqueMerchantTransactionId: false })];
        }), [true, true]);
        assert.deepEqual((await payments.byMerchantTransactionId(f.entity.id, mtx)).map((o) => o.id).sort(), [o1.id, capture.id, oFree.id].sort());

        // Without a merchant transaction id there is nothing to compete for.
        const [n1, n2] = [newPayment(f), newPayment(f)];
        assert.deepEqual(await payWrite(async (w) => {
          await w.insertPayment(n1);
          await w.insertPayment(n2);
          return [await w.insertOperation(newOperation(n1), unique), await w.insertOperation(newOperation(n2), unique)];
        }), [true, true]);
      });

      test('uniqueMerchantTransactionId: 10 concurrent units of work with one id, exactly one inserts', async () => {
        const f = await merchant();
        const mtx = `order-${id()}`;
        const tries = Array.from({ length: 10 }, () => {
          const p = newPayment(f);
          return { p, o: newOperation(p, { merchantTransactionId: mtx }) };
        });
        const won = await Promise.all(tries.map(({ p, o }) => payWrite(async (w) => {
          await w.insertPayment(p);
          await new Promise((resolve) => setTimeout(resolve, 2));
          return w.insertOperation(o, { uniqueMerchantTransactionId: true });
        })));
        assert.equal(won.filter(Boolean).length, 1);
        assert.deepEqual(await payments.byMerchantTransactionId(f.entity.id, mtx), [tries[won.indexOf(true)]!.o]);
      });

      test('openOperations(before, limit): pending and unknown, touched before `before`, oldest first', async () => {
        const f = await merchant();
        const p = newPayment(f);
        // Timestamps far in the past so that no other test's operations fall below `before`.
        const T = 100;
        const op = (status: OperationStatus, updatedAt: number, resultCode?: string) =>
          newOperation(p, { status, resultCode, createdAt: T, updatedAt });
        const unknown = op('unknown', T + 10);
        const pendingNoCode = op('pending', T + 20);
        const pendingWithCode = op('pending', T + 30, '000.200.000');
        const unknownLate = op('unknown', T + 100);
        const succeeded = op('succeeded', T + 5, '000.000.000');
        const failed = op('failed', T + 6, '800.100.100');
        const awaiting = op('awaiting', T + 7);
        const pendingNoCode2 = op('pending', T + 40);
        await payWrite(async (w) => {
          await w.insertPayment(p);
          for (const o of [unknownLate, pendingWithCode, succeeded, pendingNoCode2, awaiting, failed, pendingNoCode, unknown]) await w.insertOperation(o);
        });
        // Oldest touched first; `before` is exclusive.
        assert.deepEqual(await payments.openOperations(T + 100, 10), [unknown, pendingNoCode, pendingWithCode, pendingNoCode2]);
        assert.deepEqual(await payments.openOperations(T + 101, 10), [unknown, pendingNoCode, pendingWithCode, pendingNoCode2, unknownLate]);
        assert.deepEqual(await payments.openOperations(T + 20, 10), [unknown]);
        assert.deepEqual(await payments.openOperations(T + 10, 10), []);
        assert.deepEqual(await payments.openOperations(T + 101, 2), [unknown, pendingNoCode]);
        // Page by page: after the last of a page, ties on the time broken by id.
        assert.deepEqual(await payments.openOperations(T + 101, 2, pendingNoCode), [pendingWithCode, pendingNoCode2]);
        assert.deepEqual(await payments.openOperations(T + 101, 2, pendingNoCode2), [unknownLate]);
        const twin = op('unknown', T + 20);
        await payWrite((w) => w.insertOperation(twin));
        const [first, second] = [pendingNoCode, twin].sort((a, b) => (a.id < b.id ? -1 : 1));
        assert.deepEqual(await payments.openOperations(T + 101, 1, first!), [second]);
        await payWrite((w) => w.settleOperation(twin.id, settlement('succeeded', T + 200, { resultCode: '000.000.000', pspReference: 't' })));
        // Settling takes one out; touching one moves it behind `before` (the reconciler's backoff).
        await payWrite((w) => w.settleOperation(unknown.id, settlement('succeeded', T + 200, { resultCode: '000.000.000', pspReference: 'r' })));
        await payWrite((w) => w.touchOperation(pendingWithCode.id, T + 150));
        assert.deepEqual(await payments.openOperations(T + 101, 10), [pendingNoCode, pendingNoCode2, unknownLate]);
        assert.deepEqual(await payments.openOperations(T + 151, 10), [pendingNoCode, pendingNoCode2, unknownLate, { ...pendingWithCode, updatedAt: T + 150 }]);
      });
    });

    describe('attempts', () => {
      /** A payment with one operation, inserted. */
      async function operation(): Promise<OperationRecord> {
        const f = await merchant();
        const p = newPayment(f);
        const o = newOperation(p);
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); });
        return o;
      }

      test('insertAttempt() takes an (operation, seq) slot once; attemptsOf() lists them with every field', async () => {
        const o = await operation();
        const p = (await payments.payment(o.paymentId))!;
        const other = newOperation(p, { kind: 'capture' });
        await payWrite((w) => w.insertOperation(other));
        const at = now();
        const a0 = newAttempt(o, 0, { createdAt: at, updatedAt: at, status: 'failed', reason: 'soft', resultCode: '800.100.152', pspReference: 'psp-0' });
        const a1 = newAttempt(o, 1, { createdAt: at + 1, updatedAt: at + 1, connector: 'other-psp', accountName: 'Acquirer B — ünïcode' });
        const taken = newAttempt(o, 1, { createdAt: at + 2, updatedAt: at + 2 });
        const elsewhere = newAttempt(other, 1, { createdAt: at + 3, updatedAt: at + 3 });
        const results = await payWrite(async (w) => [
          await w.insertAttempt(a1),
          await w.insertAttempt(a0),
          await w.insertAttempt(taken),
          // The refusal leaves the unit of work usable (PostgreSQL aborts a transaction on a failed statement).
          await w.insertAttempt(elsewhere),
        ]);
        assert.deepEqual(results, [true, true, false, true], 'slot 1 of the operation is taken; another operation has its own slots');
        assert.deepEqual(await payments.attemptsOf(o.paymentId), [a0, a1, elsewhere]);
        assert.equal((await payments.attemptsOf(o.paymentId))[0]!.authenticated, false);
        assert.equal((await payments.attemptsOf(o.paymentId))[1]!.authenticated, true);
        assert.deepEqual(await payments.attemptsOf(id()), []);
        // Attempts belong to an operation (foreign key).
        await assert.rejects(payWrite((w) => w.insertAttempt(newAttempt(o, 7, { operationId: id() }))));
        assert.equal((await payments.attemptsOf(o.paymentId)).length, 3);
      });

      test('10 concurrent units of work inserting into one slot: exactly one wins, and it is the stored one', async () => {
        const o = await operation();
        const tries = Array.from({ length: 10 }, () => newAttempt(o, 0));
        const won = await Promise.all(tries.map((a) => payWrite(async (w) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          return w.insertAttempt(a);
        })));
        assert.equal(won.filter(Boolean).length, 1);
        assert.deepEqual(await payments.attemptsOf(o.paymentId), [tries[won.indexOf(true)]]);
      });
    });

    describe('value types', () => {
      test('money round-trips as numbers and timestamps as numbers, not strings', async () => {
        const f = await merchant();
        const p = newPayment(f, { amount: bigMinor, currency: 'JPY' });
        const o = newOperation(p, { amount: { amount: bigMinor, currency: currency('JPY') }, unknownSince: Date.UTC(2099, 0, 1) });
        const a = newAttempt(o, 3);
        const card = newCard(f.merchant.id);
        await vault.insertCard(card);
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); await w.insertAttempt(a); });

        const rp = await payments.payment(p.id);
        const ro = await payments.operation(o.id);
        const [ra] = await payments.attemptsOf(p.id);
        assert.ok(rp && ro && ra);
        assert.strictEqual(rp.amount, bigMinor);
        assert.strictEqual(ro.amount.amount, bigMinor);
        for (const v of [rp.amount, rp.version, rp.createdAt, rp.updatedAt, ro.amount.amount, ro.seq, ro.createdAt, ro.updatedAt, ro.unknownSince, ra.seq, ra.createdAt, ra.updatedAt]) {
          assert.equal(typeof v, 'number', `${String(v)} is a ${typeof v}`);
        }
        assert.strictEqual(ro.unknownSince, o.unknownSince);
        const locked = await payWrite((w) => w.lock(p.id));
        assert.strictEqual(locked?.payment.amount, bigMinor);
        assert.strictEqual(locked?.operations[0]?.amount.amount, bigMinor);
        assert.strictEqual(locked?.attempts[0]?.createdAt, a.createdAt);
        assert.strictEqual(locked?.payment.createdAt, p.createdAt);

        const m = (await merchants.list()).find((x) => x.merchant.id === f.merchant.id)?.merchant;
        assert.strictEqual(m?.createdAt, f.merchant.createdAt);
        assert.strictEqual((await merchants.byCredential(f.credentials[0]!.digest, 'opp_bearer'))?.createdAt, f.merchant.createdAt);
        const c = await vault.card(card.id);
        assert.strictEqual(c?.createdAt, card.createdAt);
        assert.strictEqual(c?.keyVersion, card.keyVersion);

        const settledAt = Date.UTC(2099, 11, 31, 23, 59, 59, 999);
        await payWrite(async (w) => {
          await w.settleAttempt(a, settlement('succeeded', settledAt));
          await w.settleOperation(o.id, settlement('succeeded', settledAt, { resultCode: '000.000.000' }));
          await w.updatePayment(p.id, { status: 'captured' }, settledAt);
        });
        assert.strictEqual((await payments.operation(o.id))?.updatedAt, settledAt);
        assert.strictEqual((await payments.attemptsOf(p.id))[0]?.updatedAt, settledAt);
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
          const n = locked.operations.length;
          // Give a competing writer every chance to interleave if nothing serialises us.
          await new Promise((resolve) => setTimeout(resolve, 2));
          // seq is unique per payment: a writer that read a stale count fails here instead of passing silently.
          await w.insertOperation(newOperation(p, { kind: 'capture', seq: n, createdAt: base + n, updatedAt: base + n }));
          await w.updatePayment(p.id, { status: 'captured' }, base + n);
          return n;
        })));
        assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
        const ops = await payments.operationsOf(p.id);
        assert.equal(ops.length, 20);
        assert.deepEqual(ops.map((o) => o.seq), Array.from({ length: 20 }, (_, i) => i));
        assert.deepEqual(ops.map((o) => o.createdAt), Array.from({ length: 20 }, (_, i) => base + i));
        assert.equal((await payments.payment(p.id))?.version, p.version + 20, 'no version bump was lost');
      });

      describe('group commit', () => {
        /** A unit of work over this store that batches as SQLite's does (one lane), with its batches recorded. */
        const batching = () => {
          const sizes: number[] = [];
          const uow = createUnitOfWork(opened.storage.db, opened.storage.kind, { lanes: 1, maxBatch: 64, gather: true }, {
            unit: () => {}, batch: (size) => sizes.push(size),
          });
          return { uow, sizes };
        };

        test('concurrent units share one commit; a unit that throws loses only its own writes; afterCommit runs for the committed ones', async () => {
          const f = await merchant();
          const { uow, sizes } = batching();
          const ps = Array.from({ length: 8 }, () => newPayment(f));
          const after: string[] = [];
          const results = await Promise.allSettled(ps.map((p, i) => uow.run(async (tx) => {
            await payments.writer(tx).insertPayment(p);
            uow.afterCommit(tx, () => after.push(p.id));
            if (i % 3 === 1) throw new Error(`unit ${i} refuses`);
            return i;
          })));
          assert.ok(sizes.some((n) => n > 1), `the eight units were batched (batch sizes ${sizes.join(', ')})`);
          for (const [i, r] of results.entries()) {
            const stored = await payments.payment(ps[i]!.id);
            if (i % 3 === 1) {
              assert.equal(r.status, 'rejected');
              assert.match(String((r as PromiseRejectedResult).reason), new RegExp(`unit ${i} refuses`), 'each failed unit gets its own error');
              assert.equal(stored, undefined, `unit ${i}'s payment was rolled back`);
            } else {
              assert.deepEqual(r, { status: 'fulfilled', value: i });
              assert.equal(stored?.id, ps[i]!.id, `unit ${i}'s payment is committed and readable once its run() resolved`);
            }
          }
          assert.deepEqual(after.sort(), ps.filter((_, i) => i % 3 !== 1).map((p) => p.id).sort());
        });

        test('a unit whose statement fails inside a batch (a duplicate key) is rolled back to its savepoint; the batch goes on and commits', async () => {
          const f = await merchant();
          const { uow, sizes } = batching();
          const taken = newPayment(f);
          await uow.run((tx) => payments.writer(tx).insertPayment(taken));
          const fresh = Array.from({ length: 4 }, () => newPayment(f));
          const results = await Promise.allSettled([
            uow.run((tx) => payments.writer(tx).insertPayment(fresh[0]!)),
            uow.run(async (tx) => { await payments.writer(tx).insertPayment(fresh[1]!); await payments.writer(tx).insertPayment({ ...taken }); }),
            uow.run((tx) => payments.writer(tx).insertPayment(fresh[2]!)),
            uow.run((tx) => payments.writer(tx).insertPayment(fresh[3]!)),
          ]);
          assert.ok(sizes.at(-1)! > 1, `the four units shared a commit (batch sizes ${sizes.join(', ')})`);
          assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
          assert.equal(await payments.payment(fresh[1]!.id), undefined, 'the failing unit\'s first insert went with it');
          for (const i of [0, 2, 3]) assert.equal((await payments.payment(fresh[i]!.id))?.id, fresh[i]!.id);
        });

        test('a COMMIT that fails (a deferred constraint) refuses every unit of its batch and gives the connection back: the next unit and reads go on', async () => {
          const { uow, sizes } = batching();
          const t = `gc_${randomBytes(4).toString('hex')}`;
          await sql.raw(`create table ${t}_parent (id integer primary key)`).execute(db);
          await sql.raw(`create table ${t}_child (id integer primary key, parent integer references ${t}_parent (id) deferrable initially deferred)`).execute(db);
          try {
            const results = await Promise.allSettled([
              uow.run((tx) => sql.raw(`insert into ${t}_parent (id) values (1)`).execute(tx)),
              // Accepted by its statement; refused only when the transaction commits.
              uow.run((tx) => sql.raw(`insert into ${t}_child (id, parent) values (1, 99)`).execute(tx)),
              uow.run((tx) => sql.raw(`insert into ${t}_parent (id) values (2)`).execute(tx)),
            ]);
            assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected'], 'no unit of a batch whose commit failed is answered as done');
            assert.match(String((results[0] as PromiseRejectedResult).reason), /foreign key/i);
            assert.deepEqual(sizes, [], 'a batch that did not commit is not counted as a commit');
            const count = async () => Number((await sql<{ n: number | string }>`select count(*) as n from ${sql.raw(`${t}_parent`)}`.execute(db)).rows[0]!.n);
            assert.equal(await count(), 0, 'nothing of the batch was kept');
            await uow.run((tx) => sql.raw(`insert into ${t}_parent (id) values (3)`).execute(tx));
            assert.equal(await count(), 1, 'the store serves the next unit and the next read');
            assert.deepEqual(sizes, [1]);
          } finally {
            await sql.raw(`drop table ${t}_child`).execute(db);
            await sql.raw(`drop table ${t}_parent`).execute(db);
          }
        });

        test('a unit awaiting what never comes is given up at its deadline: its writes roll back, what it sends later is refused, and the units after it commit', async () => {
          const f = await merchant();
          const sizes: number[] = [];
          const uow = createUnitOfWork(opened.storage.db, opened.storage.kind, { lanes: 1, maxBatch: 64, gather: true, deadlineMs: 300 }, {
            unit: () => {}, batch: (size) => sizes.push(size),
          });
          const [stuck, late, beside] = Array.from({ length: 3 }, () => newPayment(f));
          let resume!: () => void;
          const never = new Promise<void>((r) => { resume = r; });
          let lateWrite: Promise<unknown> | undefined;
          const results = await Promise.allSettled([
            uow.run(async (tx) => {
              await payments.writer(tx).insertPayment(stuck!);
              await never;
              lateWrite = payments.writer(tx).insertPayment(late!);
              await lateWrite;
            }),
            // Batched after it, so it runs once the first is given up. The given-up unit wakes while
            // this one holds the batch's transaction: what it sends must not land in this unit's writes.
            uow.run(async (tx) => {
              resume();
              await new Promise((r) => setTimeout(r, 50));
              await payments.writer(tx).insertPayment(beside!);
            }),
          ]);
          assert.equal(results[0].status, 'rejected');
          assert.match(String((results[0] as PromiseRejectedResult).reason), /ran past its 300 ms deadline/);
          assert.equal(results[1].status, 'fulfilled', 'the unit batched after it ran and committed');
          assert.deepEqual(sizes, [1], 'one commit, carrying the unit after it');
          assert.ok(lateWrite, 'the given-up unit went on after it woke');
          await assert.rejects(lateWrite, /ran past its deadline and was rolled back/);
          assert.equal(await payments.payment(stuck!.id), undefined, 'the given-up unit\'s write was rolled back');
          assert.equal(await payments.payment(late!.id), undefined, 'nothing the late unit sent was committed');
          assert.equal((await payments.payment(beside!.id))?.id, beside!.id);
        });

        test('a unit asking for an allowance (work that grows with its input) runs past the deadline by that much, and commits', async () => {
          const f = await merchant();
          const uow = createUnitOfWork(opened.storage.db, opened.storage.kind, { lanes: 1, maxBatch: 64, gather: true, deadlineMs: 200 });
          const p = newPayment(f);
          await uow.run(async (tx) => {
            await payments.writer(tx).insertPayment(p);
            await new Promise((r) => setTimeout(r, 400));
          }, { allowanceMs: 1000 });
          assert.equal((await payments.payment(p.id))?.id, p.id);
          const q = newPayment(f);
          await assert.rejects(uow.run(async (tx) => {
            await payments.writer(tx).insertPayment(q);
            await new Promise((r) => setTimeout(r, 400));
          }), /ran past its 200 ms deadline/, 'without it, the same unit is given up');
          assert.equal(await payments.payment(q.id), undefined);
        });

        test('a throwing afterCommit callback fails its own caller only; the batch\'s other units are answered', async () => {
          const f = await merchant();
          const { uow } = batching();
          const ps = Array.from({ length: 3 }, () => newPayment(f));
          const results = await Promise.allSettled(ps.map((p, i) => uow.run(async (tx) => {
            await payments.writer(tx).insertPayment(p);
            if (i === 1) uow.afterCommit(tx, () => { throw new Error('wake-up failed'); });
            return i;
          })));
          assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
          for (const p of ps) assert.equal((await payments.payment(p.id))?.id, p.id, 'all three committed');
        });
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

      test('claims shared between endpoints: each first gets its share beside what is in flight, then the rest goes to those that answer; a failing one at its share gets nothing', async () => {
        const f = await merchant();
        const [healthy, failing, full] = [await endpoint(f), await endpoint(f, { failingSince: T - 5 }), await endpoint(f, { failingSince: T - 5 })];
        await webhooks.claimDue(T, T + 1e9, 'earlier', 1000);
        for (const e of [full, healthy, failing]) for (let i = 0; i < 6; i++) await webhooks.addDelivery(delivery(e));
        const share = { busy: new Map([[failing.id, 1], [full.id, 2]]), shareOf: (isFailing: boolean) => (isFailing ? 2 : 3) };
        const mine = (ds: DeliveryRecord[]) => ds.filter((d) => d.merchantId === f.merchant.id);
        const count = (ds: DeliveryRecord[], e: EndpointRecord) => ds.filter((d) => d.endpointId === e.id).length;
        // Four slots: the shares (three for the one that answers, one left of the failing one's two).
        const first = mine(await webhooks.claimDue(T, T + 1000, 'x', 4, share));
        assert.deepEqual([count(first, healthy), count(first, failing), count(first, full)], [3, 1, 0]);
        // Ten slots: what the shares leave goes to the endpoint that answers; the failing ones get no more.
        const second = mine(await webhooks.claimDue(T, T + 1000, 'y', 10, { ...share, busy: new Map([[healthy.id, 3], [failing.id, 2], [full.id, 2]]) }));
        assert.deepEqual([count(second, healthy), count(second, failing), count(second, full)], [3, 0, 0]);
        // Without a share every due delivery not leased is claimable: the failing ones' five and six.
        assert.equal(mine(await webhooks.claimDue(T, T + 1000, 'z', 100)).length, 11);
      });

      test('recording an attempt: once per pending delivery, by the lease\'s holder, with the endpoint\'s streak; redelivery restarts the ladder', async () => {
        const f = await merchant();
        const e = await endpoint(f);
        await webhooks.claimDue(T, T + 1e9, 'earlier', 1000);
        const d = delivery(e);
        await webhooks.addDelivery(d);
        const mine = (ds: DeliveryRecord[]) => ds.filter((x) => x.id === d.id).length;
        assert.equal(mine(await webhooks.claimDue(T, T + 1000, 'w', 100)), 1);
        const attempt = { id: id(), deliveryId: d.id, attemptedAt: T, httpStatus: 503, latencyMs: 12, error: undefined, excerpt: 'busy' };
        const failed = { attempt, owner: 'w', redeliveries: 0, status: 'pending' as const, retryIndex: 1, nextAttemptAt: T + 30_000,
          endpoint: { id: e.id, answered: false, disableAfterMs: 60_000, at: T } };
        assert.equal(await webhooks.recordAttempt(d.id, { ...failed, owner: 'other', attempt: { ...attempt, id: id() } }), false, 'not the lease\'s holder');
        assert.deepEqual(await webhooks.attemptsOf(d.id), [], 'a refused record writes nothing');
        assert.equal(await webhooks.recordAttempt(d.id, failed), true);
        let [row] = await webhooks.deliveries({ eventId: d.eventId });
        assert.deepEqual([row!.status, row!.attempts, row!.retryIndex, row!.nextAttemptAt, row!.lastStatus], ['pending', 1, 1, T + 30_000, 503]);
        assert.equal((await webhooks.endpoint(e.id))!.failingSince, T);
        assert.deepEqual(await webhooks.attemptsOf(d.id), [attempt]);
        assert.equal(await webhooks.recordAttempt(d.id, { ...failed, attempt: { ...attempt, id: id() } }), false, 'the record released the lease');
        // A later failure continues the streak the database holds, and disables once it is old enough.
        assert.equal(mine(await webhooks.claimDue(T + 30_000, T + 31_000, 'w', 100)), 1);
        const again = { ...failed, attempt: { ...attempt, id: id(), attemptedAt: T + 30_000 }, retryIndex: 2, nextAttemptAt: T + 90_000,
          endpoint: { ...failed.endpoint, at: T + 60_000 } };
        assert.deepEqual(await webhooks.recordAttempts([{ deliveryId: d.id, outcome: again }]), [{ recorded: true, disabledEndpoint: true }]);
        assert.deepEqual([(await webhooks.endpoint(e.id))!.status, (await webhooks.endpoint(e.id))!.failingSince], ['disabled', T]);
        await webhooks.updateEndpoint(e.id, { status: 'active', failingSince: undefined }, T + 60_001);
        assert.equal(mine(await webhooks.claimDue(T + 90_000, T + 91_000, 'w', 100)), 1);
        const ok = { ...failed, attempt: { ...attempt, id: id(), attemptedAt: T + 90_000, httpStatus: 200, excerpt: undefined }, status: 'delivered' as const,
          endpoint: { ...failed.endpoint, answered: true } };
        assert.equal(await webhooks.recordAttempt(d.id, ok), true);
        assert.equal(await webhooks.recordAttempt(d.id, { ...ok, attempt: { ...ok.attempt, id: id() } }), false, 'a late duplicate changes nothing');
        [row] = await webhooks.deliveries({ eventId: d.eventId });
        assert.deepEqual([row!.status, row!.attempts, row!.deliveredAt], ['delivered', 3, T + 90_000]);
        assert.equal((await webhooks.attemptsOf(d.id)).length, 3);
        assert.equal((await webhooks.endpoint(e.id))!.failingSince, undefined);
        assert.equal((await webhooks.redeliver({ failedSince: T }, T + 99)).redelivered, 0, 'delivered is not failed');
        assert.deepEqual(await webhooks.redeliver({ deliveryIds: [d.id] }, T + 100), { redelivered: 1, waitingForEnable: 0 });
        [row] = await webhooks.deliveries({ eventId: d.eventId });
        assert.deepEqual([row!.status, row!.retryIndex, row!.ladderStart, row!.nextAttemptAt, row!.attempts], ['pending', 0, T + 100, T + 100, 3]);
      });

      test('redeliver since a time takes the deliveries that failed since then, whenever their events were made', async () => {
        const f = await merchant();
        const e = await endpoint(f);
        const S = T + 5_000_000;
        await webhooks.claimDue(S + 1e9, S + 1e12, 'earlier', 10_000);
        // Made a day before, failing since: taken. Made a day before, last failed before: left.
        const old = delivery(e, { createdAt: S - 86_400_000, ladderStart: S - 86_400_000, nextAttemptAt: S });
        const stale = delivery(e, { createdAt: S - 86_400_000, ladderStart: S - 86_400_000, nextAttemptAt: S - 3_600_000 });
        await webhooks.addDelivery(old);
        await webhooks.addDelivery(stale);
        const fail = (d: DeliveryRecord, at: number) => webhooks.recordAttempt(d.id, {
          attempt: { id: id(), deliveryId: d.id, attemptedAt: at, httpStatus: 500, latencyMs: 1, error: undefined, excerpt: undefined },
          owner: 'w', redeliveries: 0, status: 'failed', retryIndex: 14, nextAttemptAt: at, endpoint: { id: e.id, answered: false, disableAfterMs: 1e12, at },
        });
        assert.equal((await webhooks.claimDue(S - 3_600_000, S - 3_000_000, 'w', 100)).filter((x) => x.id === stale.id).length, 1);
        assert.equal(await fail(stale, S - 3_600_000), true);
        assert.equal((await webhooks.claimDue(S, S + 60_000, 'w', 100)).filter((x) => x.id === old.id).length, 1);
        assert.equal(await fail(old, S + 10), true);
        assert.equal((await webhooks.redeliver({ failedSince: S, endpointId: e.id }, S + 100)).redelivered, 1);
        const rows = new Map((await webhooks.deliveries({ endpointId: e.id })).map((d) => [d.id, d.status]));
        assert.deepEqual([rows.get(old.id), rows.get(stale.id)], ['pending', 'failed']);
      });

      test('retention: finished deliveries last due before the cutoff go with their attempts and events, a batch at a time; pending ones and their events stay', async () => {
        const f = await merchant();
        const e = await endpoint(f);
        // Long before every other test's rows, so the cutoff takes only these.
        const OLD = T - 100 * 86_400_000;
        const cutoff = OLD + 60_000;
        const kinds = ['delivered', 'failed', 'pending', 'recent', 'unrouted', 'delivered', 'delivered'] as const;
        const events = kinds.map(() => id());
        for (const ev of events) await addOutboxEvent(db, { id: ev, merchantId: f.merchant.id, type: 'execution.executionCreated', subjectId: ev, payload: {}, createdAt: OLD });
        const plan = new Map(events.map((ev, i) => {
          const kind = kinds[i]!;
          if (kind === 'unrouted') return [ev, []];
          const due = kind === 'recent' ? cutoff + 1 : OLD;
          const status = kind === 'pending' ? 'pending' : kind === 'failed' ? 'failed' : 'delivered';
          return [ev, [delivery(e, { eventId: ev, createdAt: OLD, ladderStart: OLD, nextAttemptAt: due, status, deliveredAt: status === 'delivered' ? due : undefined })]];
        }));
        assert.equal((await webhooks.fanOut(plan, OLD)).length, events.length);
        const deliveryOf = new Map(events.map((ev) => [ev, plan.get(ev)![0]?.id]));
        for (const ev of events) {
          const d = deliveryOf.get(ev);
          if (d) await db.insertInto('webhook_attempts').values({ id: id(), delivery_id: d, attempted_at: OLD, http_status: 200, latency_ms: 5, error: null, excerpt: null }).execute();
        }
        // Two rows of each a transaction: the finished four take two batches, and a third finds none.
        const batches = [await webhooks.purgeFinished(cutoff, 2), await webhooks.purgeFinished(cutoff, 2), await webhooks.purgeFinished(cutoff, 2)];
        assert.deepEqual(batches.map((b) => b.deliveries), [2, 2, 0]);
        assert.equal(batches.reduce((n, b) => n + b.events, 0), 5, 'the four finished ones\' events and the one no endpoint took');
        const left = (await db.selectFrom('outbox').select('id').where('id', 'in', events).execute()).map((r) => r.id).sort();
        assert.deepEqual(left, [events[2]!, events[3]!].sort(), 'the pending delivery\'s event and the recent one\'s');
        const deliveries = (await db.selectFrom('webhook_deliveries').select(['event_id', 'status']).where('event_id', 'in', events).execute()).map((r) => r.event_id).sort();
        assert.deepEqual(deliveries, [events[2]!, events[3]!].sort());
        const attempts = await db.selectFrom('webhook_attempts').select('delivery_id').where('delivery_id', 'in', [...deliveryOf.values()].filter((d) => d !== undefined)).execute();
        assert.deepEqual(attempts.map((a) => a.delivery_id).sort(), [deliveryOf.get(events[2]!)!, deliveryOf.get(events[3]!)!].sort());
      });

      test('order: events come back in the order written; a delivery waits while an earlier one about the same subject is pending at its endpoint', async () => {
        const f = await merchant();
        const e = await endpoint(f);
        const other = await endpoint(f);
        // Same created_at, ids in no order: only the order of writing tells them apart.
        const events = ['f', '0', '9', '3'].map((c) => c.repeat(31) + 'a');
        await runForRequest('r', async () => {
          for (const ev of events) {
            await addOutboxEvent(db, { id: ev, merchantId: f.merchant.id, type: 'execution.executionCreated', subjectId: 's', payload: {}, createdAt: T });
          }
        }, traceFrom('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'));
        const read = (await webhooks.undispatched(100000)).filter((x) => events.includes(x.id));
        assert.deepEqual(read.map((x) => x.id), events);
        assert.ok(read.every((x, i) => i === 0 || x.seq! > read[i - 1]!.seq!));
        assert.match(read[0]!.traceparent!, /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
        await webhooks.claimDue(T, T + 1e9, 'earlier', 1000);
        const key = `payment:${id()}`;
        const first = delivery(e, { orderingKey: key, seq: 10, traceparent: read[0]!.traceparent });
        const second = delivery(e, { orderingKey: key, seq: 11 });
        const elsewhere = delivery(other, { orderingKey: key, seq: 12 });
        const unrelated = delivery(e, { orderingKey: `payment:${id()}`, seq: 13 });
        for (const d of [second, first, elsewhere, unrelated]) await webhooks.addDelivery(d);
        const mine = (ds: DeliveryRecord[]) => ds.filter((d) => d.merchantId === f.merchant.id);
        const claimed = mine(await webhooks.claimDue(T, T + 1000, 'w', 100));
        assert.deepEqual(claimed.map((d) => d.id).sort(), [first.id, elsewhere.id, unrelated.id].sort(), 'the second waits for the first');
        assert.equal(claimed.find((d) => d.id === first.id)!.traceparent, read[0]!.traceparent);
        // Still waiting while the first is pending (leased or due again later)...
        const failed = { attempt: { id: id(), deliveryId: first.id, attemptedAt: T, httpStatus: 500, latencyMs: 1, error: undefined, excerpt: undefined },
          owner: 'w', redeliveries: 0, status: 'pending' as const, retryIndex: 1, nextAttemptAt: T + 60_000, ladderStart: T,
          endpoint: { id: e.id, answered: false, disableAfterMs: 3_600_000, at: T } };
        assert.equal(await webhooks.recordAttempt(first.id, failed), true);
        const ids = (ds: DeliveryRecord[]) => mine(ds).map((d) => d.id);
        assert.ok(!ids(await webhooks.claimDue(T + 2000, T + 3000, 'w', 100)).includes(second.id));
        // ...and its turn comes once the first is delivered.
        assert.ok(ids(await webhooks.claimDue(T + 60_000, T + 61_000, 'w', 100)).includes(first.id));
        assert.equal(await webhooks.recordAttempt(first.id, { ...failed, attempt: { ...failed.attempt, id: id(), httpStatus: 200 }, status: 'delivered',
          endpoint: { ...failed.endpoint, answered: true } }), true);
        assert.ok(ids(await webhooks.claimDue(T + 60_001, T + 62_000, 'w', 100)).includes(second.id));
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

      test('round-trips a challenge run by the PSP with its redirect, which is stored sealed (a PSP may write the card number there)', async () => {
        const f = await merchant();
        const c = newChallenge(f, { pspRedirect: { url: 'https://acs.psp.example/3ds?card=4111111111111111', method: 'POST', parameters: [{ name: 'MD', value: 'm d' }, { name: 'PaReq', value: 'é' }] } });
        await challenges.insert(c);
        assert.deepEqual(await challenges.get(c.id), c);
        assert.deepEqual(await challenges.openOf('payment', c.subject.id), c);
        const stored = await db.selectFrom('challenges').select('psp_redirect').where('id', '=', c.id).executeTakeFirstOrThrow();
        assert.ok(stored.psp_redirect && !stored.psp_redirect.includes('4111111111111111') && !stored.psp_redirect.includes('acs.psp.example'), stored.psp_redirect ?? '');
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
      test('awaitingBefore() lists operations still waiting for their shopper; resumeOperation() takes them out', async () => {
        const f = await merchant();
        const p = newPayment(f, { initialKind: 'authorize' });
        const o = newOperation(p, { status: 'awaiting', resultCode: '000.200.000', createdAt: 1000, updatedAt: 1000 });
        const pending = newOperation(p, { kind: 'capture', status: 'pending', createdAt: 1000, updatedAt: 1000 });
        await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); await w.insertOperation(pending); });
        const listed = await payments.awaitingBefore(1001, 1000);
        assert.deepEqual(listed.find((x) => x.id === o.id), o);
        assert.ok(!listed.some((x) => x.id === pending.id), 'pending is no shopper\'s business');
        assert.ok(!(await payments.awaitingBefore(1000, 1000)).some((x) => x.id === o.id));
        // Only an awaiting operation resumes.
        await payWrite((w) => w.resumeOperation(pending.id, { '3ds.acsEci': '05' }, 2000));
        assert.deepEqual(await payments.operation(pending.id), pending);
        await payWrite((w) => w.resumeOperation(o.id, { '3ds.acsEci': '05' }, 2000));
        const resumed = await payments.operation(o.id);
        assert.deepEqual(resumed, { ...o, status: 'pending', resultCode: undefined, details: { '3ds.acsEci': '05' }, updatedAt: 2000 });
        assert.ok(!(await payments.awaitingBefore(Number.MAX_SAFE_INTEGER, 1000)).some((x) => x.id === o.id));
      });

      test('bankTransfersAwaitingReceipt() lists confirmed bank transfers not yet marked settled by a receipt, by last change', async () => {
        const f = await merchant();
        const bank = newPayment(f, { method: 'bank_transfer', status: 'authorized', updatedAt: 5000 });
        const older = newPayment(f, { method: 'bank_transfer', status: 'authorized', updatedAt: 4000, channel: 'executions', entityId: undefined });
        const card = newPayment(f, { method: 'card', status: 'authorized', updatedAt: 5000 });
        // A DB transfer counts as captured at once; its receipt is still to come.
        const debit = newPayment(f, { method: 'bank_transfer', status: 'captured', updatedAt: 4500 });
        const received = newPayment(f, { method: 'bank_transfer', status: 'captured', updatedAt: 4500 });
        const declined = newPayment(f, { method: 'bank_transfer', status: 'declined', updatedAt: 4500 });
        await payWrite(async (w) => {
          for (const p of [bank, older, card, debit, received, declined]) await w.insertPayment(p);
          await w.insertOperation(newOperation(received, { status: 'succeeded' }));
          await w.insertOperation(newOperation(received, { kind: 'receipt', status: 'succeeded' }));
          // The receipt sweep marks what it finds a receipt for.
          await w.setReceiptSettled(received.id, 4600);
        });
        const due = (await payments.bankTransfersAwaitingReceipt(5001, 1000)).map((p) => p.id);
        assert.deepEqual(due.filter((x) => [bank.id, older.id, debit.id].includes(x)), [older.id, debit.id, bank.id], 'oldest change first, whatever the channel');
        assert.deepEqual((await payments.bankTransfersAwaitingReceipt(5001, 1000)).find((p) => p.id === older.id), older);
        assert.ok(!due.includes(card.id) && !due.includes(received.id) && !due.includes(declined.id));
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

      test('byPayment() and lockByPayment() find the execution whose authorization made the payment', async () => {
        const f = await merchant();
        const paymentId = id();
        const e = newExecution(f, { status: 'authorized', paymentId });
        const unrelated = newExecution(f, { paymentId: id() });
        const none = newExecution(f);
        await execWrite(async (w) => { for (const r of [unrelated, e, none]) await w.insert(r); });
        assert.deepEqual(await executions.byPayment(paymentId), e);
        assert.equal(await executions.byPayment(id()), undefined);
        assert.deepEqual(await execWrite((w) => w.lockByPayment(paymentId)), e);
        assert.equal(await execWrite((w) => w.lockByPayment(id())), undefined);
        // Sees the unit of work's own uncommitted insert.
        const fresh = newExecution(f, { paymentId: id() });
        assert.deepEqual(await execWrite(async (w) => { await w.insert(fresh); return w.lockByPayment(fresh.paymentId!); }), fresh);
      });

      test('10 concurrent write()s locking one execution by its payment serialise: each sees the previous version', async () => {
        const f = await merchant();
        const paymentId = id();
        const e = newExecution(f, { paymentId });
        await execWrite((w) => w.insert(e));
        const seen = await Promise.all(Array.from({ length: 10 }, () => execWrite(async (w) => {
          const locked = (await w.lockByPayment(paymentId))!;
          await new Promise((resolve) => setTimeout(resolve, 2));
          await w.update({ ...locked, version: locked.version + 1, meta: { ...locked.meta, [`v${locked.version}`]: true } });
          return locked.version;
        })));
        assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 10 }, (_, i) => i + 1));
        const after = await executions.byPayment(paymentId);
        assert.equal(after?.version, 11);
        assert.equal(Object.keys(after!.meta).length, 10, 'no update was lost');
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

      test('notify(): on PostgreSQL a listener of the schema hears the id once the change commits, never for a rolled-back one; another schema\'s listener never', async (t) => {
        if (opened.storage.kind !== 'postgres') return t.skip('LISTEN/NOTIFY is PostgreSQL only; SQLite has one node');
        const client = new pg.Client({ connectionString: testPostgresUrl });
        await client.connect();
        try {
          const heard: string[] = [];
          const elsewhere: string[] = [];
          const shared: string[] = [];
          const channel = executionChannelOf(opened.storage.schema!);
          const otherChannel = executionChannelOf(`${opened.storage.schema}_other`);
          assert.notEqual(channel, otherChannel);
          assert.ok(executionChannelOf('s'.repeat(63)).length <= 63, 'within PostgreSQL\'s identifier length for any schema name');
          client.on('notification', (n) => {
            if (n.channel === channel && n.payload) heard.push(n.payload);
            if (n.channel === otherChannel && n.payload) elsewhere.push(n.payload);
            if (n.channel === sharedExecutionChannel && n.payload) shared.push(n.payload);
          });
          await client.query(`LISTEN ${channel}`);
          await client.query(`LISTEN ${otherChannel}`);
          await client.query(`LISTEN ${sharedExecutionChannel}`);
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
          assert.deepEqual(elsewhere, [], 'a gateway of another schema in the same database is not woken');
          assert.ok(shared.includes(e.id) && !shared.includes(gone.id), 'announced on the channel nodes from before a rolling upgrade listen on');
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
        await keys.complete({ merchantId: a.merchant.id, key: r.key, at: r.createdAt }, 201, body);
        assert.deepEqual(await keys.claim(r), { claimed: false, existing: { ...r, state: 'done', responseStatus: 201, responseBody: body } });
      });

      test('release() frees only an in-flight key; takeOver() only the claim made at staleAt, after which the stalled claim neither answers for the key nor frees it; purge() forgets old keys', async () => {
        const f = await merchant();
        const m = f.merchant.id;
        const inFlight = row(m);
        const done = row(m);
        await keys.claim(inFlight);
        await keys.claim(done);
        const claimOf = (r: IdempotencyRow) => ({ merchantId: m, key: r.key, at: r.createdAt });
        await keys.complete(claimOf(done), 200, '{}');
        await keys.release(claimOf(inFlight));
        await keys.release(claimOf(done));
        assert.deepEqual(await keys.claim(inFlight), { claimed: true }, 'released: claimable again');
        assert.equal((await keys.claim(done) as { existing: IdempotencyRow }).existing.state, 'done', 'a done key is kept');

        assert.equal(await keys.takeOver(m, inFlight.key, inFlight.createdAt - 1, now()), false);
        const takenAt = now();
        assert.equal(await keys.takeOver(m, inFlight.key, inFlight.createdAt, takenAt), true);
        assert.equal(await keys.takeOver(m, inFlight.key, inFlight.createdAt, now()), false, 'taken over once only');
        assert.equal(await keys.takeOver(m, done.key, done.createdAt, now()), false, 'a finished key is never taken over');
        assert.equal((await keys.claim(inFlight) as { existing: IdempotencyRow }).existing.createdAt, takenAt);
        // The request that stalled holds the key no longer: it neither answers for it nor frees it.
        await keys.complete(claimOf(inFlight), 201, '{"stale":true}');
        await keys.release(claimOf(inFlight));
        assert.deepEqual((await keys.claim(inFlight) as { existing: IdempotencyRow }).existing, { ...inFlight, createdAt: takenAt }, 'still in flight, for the request that took it over');
        await keys.complete({ ...claimOf(inFlight), at: takenAt }, 201, '{"id":"B"}');
        assert.deepEqual((await keys.claim(inFlight) as { existing: IdempotencyRow }).existing, { ...inFlight, createdAt: takenAt, state: 'done', responseStatus: 201, responseBody: '{"id":"B"}' });

        const old = row(m, { createdAt: 1_000 });
        await keys.claim(old);
        assert.ok(await keys.purge(2_000, 1_000) >= 1);
        assert.deepEqual(await keys.claim(old), { claimed: true }, 'purged');
        assert.equal((await keys.claim(done) as { claimed: boolean }).claimed, false, 'newer keys stay');
        // A batch at a time, the oldest first.
        const oldest = [row(m, { createdAt: 100 }), row(m, { createdAt: 101 }), row(m, { createdAt: 102 })];
        for (const r of oldest) await keys.claim(r);
        assert.equal(await keys.purge(103, 2), 2);
        assert.deepEqual(await keys.claim(oldest[0]!), { claimed: true }, 'the oldest went first');
        assert.equal((await keys.claim(oldest[2]!) as { claimed: boolean }).claimed, false, 'beyond the batch: kept for the next');
        assert.equal(await keys.purge(103, 2), 2, 'the next batch: the one left, and the one claimed again since (made at 100)');
      });

      test('10 concurrent duplicates of one key: exactly one proceeds, the others conflict (in flight)', async () => {
        const f = await merchant();
        const r = row(f.merchant.id);
        const claims = await Promise.all(Array.from({ length: 10 }, () => keys.claim({ ...r })));
        assert.equal(claims.filter((c) => c.claimed).length, 1);

        const idem = createIdempotency({ store: keys, clock: manualClock(Date.now()), key: randomBytes(32) });
        const key = randomUUID();
        const admissions = await Promise.all(Array.from({ length: 10 }, () => idem.admit(f.merchant.id, key, 'POST /x {}', { amount: { value: '1.00' } })));
        const proceeding = admissions.filter((a) => a.kind === 'proceed');
        assert.deepEqual(proceeding.length, 1);
        assert.deepEqual(admissions.filter((a) => a.kind !== 'proceed'), Array.from({ length: 9 }, () => ({ kind: 'conflict', reason: 'in_flight' })));
        await idem.complete(proceeding[0]!.claim, 201, '{"ok":true}');
        assert.deepEqual(await idem.admit(f.merchant.id, key, 'POST /x {}', { amount: { value: '1.00' } }), { kind: 'replay', status: 201, body: '{"ok":true}' });
        assert.deepEqual(await idem.admit(f.merchant.id, key, 'POST /x {}', { amount: { value: '2.00' } }), { kind: 'conflict', reason: 'mismatch' });
      });
    });

    describe('workflow and PSP account store', () => {
      const account = (merchantId: string, name: string, overrides: Partial<PspAccount> = {}): PspAccount => ({
        id: id(), merchantId, name, connector: 'simulator',
        settings: { latencyMs: 20, declines: [{ cardSuffixes: ['1111'], category: 'soft' }], timeouts: [] },
        sealedSecrets: undefined, timeoutMs: undefined, createdAt: now(), updatedAt: now(), ...overrides,
      });

      test('upsertAccount() inserts, then replaces the connector and settings of the same name keeping its id; list, get, remove', async () => {
        const f = await merchant();
        const other = await merchant();
        const b = account(f.merchant.id, 'psp-b');
        assert.deepEqual(await workflows.upsertAccount(b), b);
        const a = account(f.merchant.id, 'psp-a', { connector: 'other-psp', settings: { apiKey: 'sealed:xyz', nested: { amounts: [bigMinor] }, list: [1, 'two', null] } });
        await workflows.upsertAccount(a);
        await workflows.upsertAccount(account(other.merchant.id, 'psp-a'));
        const changedAt = now();
        const replaced = await workflows.upsertAccount(account(f.merchant.id, 'psp-b', { connector: 'other-psp', settings: { latencyMs: 5 }, createdAt: changedAt, updatedAt: changedAt }));
        assert.deepEqual(replaced, { ...b, connector: 'other-psp', settings: { latencyMs: 5 }, updatedAt: changedAt });
        assert.deepEqual(await workflows.accounts(f.merchant.id), [a, replaced]);
        assert.deepEqual(await workflows.account(b.id), replaced);
        assert.deepEqual(await workflows.account(a.id), a);
        assert.equal(await workflows.account(id()), undefined);
        assert.equal(await workflows.removeAccount(f.merchant.id, 'psp-a'), 'removed');
        assert.equal(await workflows.removeAccount(f.merchant.id, 'psp-a'), 'not_found');
        assert.deepEqual((await workflows.accounts(f.merchant.id)).map((x) => x.name), ['psp-b']);
        assert.equal((await workflows.accounts(other.merchant.id)).length, 1, 'another merchant keeps its psp-a');
      });

      test('accountInUse() says whether the account holds a payment: authorized there, or an attempt there its PSP may still decide', async () => {
        const f = await merchant();
        const [used, unused, open, ended, declined] = ['used', 'unused', 'open', 'ended', 'declined'].map((n) => account(f.merchant.id, n));
        for (const a of [used, unused, open, ended, declined]) await workflows.upsertAccount(a!);
        assert.equal(await workflows.accountInUse(used!.id), false);
        await payWrite((w) => w.insertPayment(newPayment(f, { pspAccountId: used!.id })));
        assert.equal(await workflows.accountInUse(used!.id), true);
        assert.equal(await workflows.accountInUse(unused!.id), false);
        // Attempts of payments that record no account yet: an answer lost (unknown), one the gateway
        // ended (the PSP may still approve it), one the PSP declined (final).
        const tries = [[open!, 'unknown', undefined], [ended!, 'failed', 'expired'], [declined!, 'failed', 'hard']] as const;
        for (const [a, status, reason] of tries) {
          const p = newPayment(f);
          const o = newOperation(p, { status: status === 'unknown' ? 'unknown' : 'failed', reason });
          await payWrite(async (w) => {
            await w.insertPayment(p);
            await w.insertOperation(o);
            await w.insertAttempt(newAttempt(o, 0, { accountId: a.id, accountName: a.name, status, reason }));
          });
        }
        assert.equal(await workflows.accountInUse(open!.id), true, 'an attempt whose answer was lost');
        assert.equal(await workflows.accountInUse(ended!.id), true, 'an attempt the gateway ended');
        assert.equal(await workflows.accountInUse(declined!.id), false, 'only a declined attempt');
      });

      test('sealed credentials and timeouts are kept; unsealedAccounts() finds the rest of the named connectors; replaceSecrets() only over what it expects', async () => {
        const f = await merchant();
        const plain = account(f.merchant.id, 'plain', { connector: 'acq-075', settings: { token: 'in-the-clear-1234' } });
        const sealed = account(f.merchant.id, 'sealed', { connector: 'acq-075', settings: { token: '****1234' }, sealedSecrets: '1.abc', timeoutMs: 2500 });
        const sim = account(f.merchant.id, 'sim');
        for (const a of [plain, sealed, sim]) await workflows.upsertAccount(a);
        assert.deepEqual(await workflows.account(sealed.id), sealed);
        const unsealed = await workflows.unsealedAccounts(['acq-075'], 100);
        assert.deepEqual(unsealed.map((a) => a.id), [plain.id], 'only the named connectors, only unsealed');
        assert.deepEqual(await workflows.unsealedAccounts([], 100), []);
        assert.ok((await workflows.sealedAccounts()).some((a) => a.id === sealed.id));
        assert.equal(await workflows.replaceSecrets(plain.id, '1.other', { token: '****1234' }, '1.def'), false, 'not over a value it did not expect');
        assert.equal(await workflows.replaceSecrets(plain.id, undefined, { token: '****1234' }, '1.def'), true);
        assert.equal(await workflows.replaceSecrets(plain.id, undefined, { token: '****1234' }, '1.ghi'), false, 'a second sealing loses');
        assert.deepEqual(await workflows.account(plain.id), { ...plain, settings: { token: '****1234' }, sealedSecrets: '1.def' });
        assert.equal(await workflows.replaceSecrets(plain.id, '1.def', { token: '****1234' }, '2.jkl'), true, 're-sealed under a new version');
        assert.equal((await workflows.unsealedAccounts(['acq-075'], 100)).some((a) => a.merchantId === f.merchant.id), false);
      });

      test('routing(): the workflow and the accounts it names, in one read, as workflow() and accounts() see them (not every account of the merchant)', async () => {
        const f = await merchant();
        const other = await merchant();
        assert.deepEqual(await workflows.routing(f.merchant.id, 'payment-acceptance'), { workflow: undefined, accounts: [] });
        assert.deepEqual(await workflows.routing(id(), 'payment-acceptance'), { workflow: undefined, accounts: [] }, 'no such merchant');
        const b = await workflows.upsertAccount(account(f.merchant.id, 'psp-b'));
        const a = await workflows.upsertAccount(account(f.merchant.id, 'psp-a', { connector: 'other-psp' }));
        await workflows.upsertAccount(account(f.merchant.id, 'psp-unnamed'));
        await workflows.upsertAccount(account(other.merchant.id, 'psp-b'));
        const brief = (x: PspAccount) => ({ id: x.id, name: x.name, connector: x.connector });
        assert.deepEqual(await workflows.routing(f.merchant.id, 'payment-acceptance'), { workflow: undefined, accounts: [] }, 'no workflow names any');
        const config = { accounts: ['psp-b', 'psp-a', 'psp-gone'], moveOn: ['soft' as const], notifyPending: true };
        await workflows.setWorkflow(f.merchant.id, 'payment-acceptance', config, now());
        await workflows.setWorkflow(f.merchant.id, 'other-flow', { ...config, accounts: [] }, now());
        assert.deepEqual(await workflows.routing(f.merchant.id, 'payment-acceptance'), { workflow: config, accounts: [brief(a), brief(b)] },
          'the named accounts of this merchant only: not psp-unnamed, not the other merchant\'s psp-b');
        assert.deepEqual(await workflows.routing(f.merchant.id, 'other-flow'), { workflow: { ...config, accounts: [] }, accounts: [] });
        assert.deepEqual(await workflows.routing(other.merchant.id, 'payment-acceptance'), { workflow: undefined, accounts: [] });
        await workflows.setWorkflow(f.merchant.id, 'payment-acceptance', { ...config, accounts: ['psp-b'] }, now());
        assert.equal(await workflows.removeAccount(f.merchant.id, 'psp-a'), 'removed');
        assert.deepEqual((await workflows.routing(f.merchant.id, 'payment-acceptance')).accounts, [brief(b)], 'a removed account is gone at once');
      });

      test('removeAccount() keeps an account a workflow names or that holds a payment; setWorkflow() writes only what its check lets through', async () => {
        const f = await merchant();
        const [named, used, free] = ['named', 'used', 'free'].map((n) => account(f.merchant.id, n));
        for (const a of [named, used, free]) await workflows.upsertAccount(a!);
        const config = { accounts: ['named'], moveOn: ['soft' as const], notifyPending: false };
        assert.equal(await workflows.setWorkflow(f.merchant.id, 'other-flow', config, now()), undefined);
        await payWrite((w) => w.insertPayment(newPayment(f, { pspAccountId: used!.id })));
        assert.equal(await workflows.removeAccount(f.merchant.id, 'named'), 'named', 'any workflow of the merchant naming it');
        assert.equal(await workflows.removeAccount(f.merchant.id, 'used'), 'in_use');
        assert.equal(await workflows.removeAccount(f.merchant.id, 'free'), 'removed');
        assert.deepEqual((await workflows.accounts(f.merchant.id)).map((a) => a.name), ['named', 'used']);

        let seen: string[] = [];
        const refused = await workflows.setWorkflow(f.merchant.id, 'payment-acceptance', { ...config, accounts: ['free'] }, now(), (accounts) => {
          seen = accounts.map((a) => a.name);
          return accounts.some((a) => a.name === 'free') ? undefined : 'free is gone';
        });
        assert.equal(refused, 'free is gone');
        assert.deepEqual(seen, ['named', 'used'], 'the check is given the accounts as they are');
        assert.equal(await workflows.workflow(f.merchant.id, 'payment-acceptance'), undefined, 'nothing written');
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

      test('endTransient() ends a transient instrument once, kept or spent; never an enabled or deleted one', async () => {
        const f = await merchant();
        const card = newCard(f.merchant.id);
        const i = newInstrument(f.merchant.id, card.id, { status: 'transient' });
        await insertInstrument(card, i);
        const at = now();
        const keep = (id: string) => opened.storage.uow.run((tx) => vaultWriter(tx).endTransient(id, 'enabled', at));
        const spend = (id: string) => opened.storage.uow.run((tx) => vaultWriter(tx).endTransient(id, 'deleted', at));
        assert.equal(await keep(i.id), true);
        assert.deepEqual(await instruments.instrument(i.id), { ...i, status: 'enabled', storeInstrument: true, updatedAt: at });
        assert.equal(await keep(i.id), false, 'enabled already');
        assert.equal(await spend(i.id), false, 'a kept one is not spent by an authorization that read it transient');
        assert.equal((await instruments.instrument(i.id))?.status, 'enabled');
        const spentCard = newCard(f.merchant.id);
        const spent = newInstrument(f.merchant.id, spentCard.id, { status: 'transient' });
        await insertInstrument(spentCard, spent);
        assert.equal(await spend(spent.id), true);
        assert.equal(await spend(spent.id), false, 'spent once');
        assert.equal(await keep(spent.id), false, 'spent by another authorization meanwhile');
        assert.equal((await instruments.instrument(spent.id))?.status, 'deleted');
      });

      test('deleteUnless() deletes an enabled instrument its card\'s payments do not keep, once, answering its card\'s masked view; never a transient or deleted one', async () => {
        const f = await merchant();
        const card = newCard(f.merchant.id);
        const i = newInstrument(f.merchant.id, card.id, { entityId: f.entity.id });
        await insertInstrument(card, i);
        const at = now();
        const asked: string[] = [];
        const del = (id: string, charged = false) => opened.storage.uow.run((tx) => vaultWriter(tx).deleteUnless(id, async (cardId) => { asked.push(cardId); return charged; }, at));
        assert.equal(await del(i.id, true), undefined, 'charged elsewhere');
        assert.deepEqual(asked, [card.id], 'asked about the instrument\'s card');
        assert.equal((await instruments.instrument(i.id))?.status, 'enabled');
        assert.deepEqual(await del(i.id), { id: card.id, brand: card.brand, bin: card.bin, last4: card.last4, holder: card.holder, expiryMonth: card.expiryMonth, expiryYear: card.expiryYear });
        assert.deepEqual(await instruments.instrument(i.id), { ...i, status: 'deleted', updatedAt: at });
        asked.length = 0;
        assert.equal(await del(i.id), undefined, 'deleted already');
        const transientCard = newCard(f.merchant.id);
        const transient = newInstrument(f.merchant.id, transientCard.id, { status: 'transient' });
        await insertInstrument(transientCard, transient);
        assert.equal(await del(transient.id), undefined);
        assert.equal((await instruments.instrument(transient.id))?.status, 'transient');
        assert.equal(await del(randomUUID()), undefined);
        assert.deepEqual(asked, [], 'not asked for an instrument that is not enabled');
      });

      test('chargedElsewhere() sees a payment with the card other than the one named, in the unit of work', async () => {
        const f = await merchant();
        const card = newCard(f.merchant.id);
        await insertInstrument(card, newInstrument(f.merchant.id, card.id));
        const first = newPayment(f, { cardId: card.id, status: 'declined' });
        await payWrite((w) => w.insertPayment(first));
        const charged = () => opened.storage.uow.run((tx) => payments.writer(tx).chargedElsewhere(card.id, first.id));
        assert.equal(await charged(), false, 'only the payment named');
        assert.equal(await opened.storage.uow.run(async (tx) => {
          await payments.writer(tx).insertPayment(newPayment(f, { cardId: card.id, status: 'authorized' }));
          return payments.writer(tx).chargedElsewhere(card.id, first.id);
        }), true, 'a payment written earlier in the same unit');
        assert.equal(await charged(), true);
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

      test('byHolder: the holder\'s enabled instruments of this merchant, newest first, at most 50; registrations (with an entity) are never among them', async () => {
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
        assert.deepEqual(found.map((i) => i.id), [oldest.id], 'one-time and deleted cards are no saved cards, and never crowd them out of the 50');
        assert.ok(![newest.id, deleted.id].includes(found[0]!.id));
        assert.ok(!found.some((i) => i.id === registration.id || i.id === plainRegistration.id));
        assert.deepEqual(found[0], { ...oldest, entityId: undefined });
        assert.deepEqual(await instruments.byHolder(f.merchant.id, ''), [], 'registrations are no holder\'s saved cards');
        assert.deepEqual(await instruments.byHolder(id(), holder), []);
        const many = `many-${id()}`;
        for (let n = 0; n < 51; n++) await saved(f, { holderReference: many });
        for (let n = 0; n < 5; n++) await saved(f, { holderReference: many, status: 'transient' });
        assert.equal((await instruments.byHolder(f.merchant.id, many)).length, 50);
        // Paged: each enabled one once, newest first, across pages of 20.
        const all = await instruments.byHolder(f.merchant.id, many, { limit: 100 });
        assert.equal(all.length, 51);
        const paged: string[] = [];
        for (let after: { createdAt: number; id: string } | undefined; ;) {
          const page = await instruments.byHolder(f.merchant.id, many, { limit: 20, ...(after ? { after } : {}) });
          paged.push(...page.map((i) => i.id));
          if (page.length < 20) break;
          after = { createdAt: page.at(-1)!.createdAt, id: page.at(-1)!.id };
        }
        assert.deepEqual(paged, all.map((i) => i.id));
      });
    });

    describe('tokenization key store', () => {
      test('insertKey / key round-trip; freshestKey is the one that expires last; a duplicate id is refused', async () => {
        const T = Date.UTC(2100, 0, 1);
        const mine = id();
        const key = (expiresAt: number, merchantId = mine) => ({
          id: randomUUID(), merchantId, publicKey: randomBytes(294).toString('base64'), sealedPrivateKey: randomBytes(1200).toString('base64'), createdAt: now(), expiresAt,
        });
        const [early, late, middle] = [key(T + 1000), key(T + 3000), key(T + 2000)];
        for (const k of [early, late, middle]) await tokenizationKeys.insertKey(k);
        assert.deepEqual(await tokenizationKeys.key(middle.id), middle);
        assert.equal(typeof (await tokenizationKeys.key(middle.id))!.expiresAt, 'number');
        assert.deepEqual(await tokenizationKeys.freshestKey(mine), late);
        const elsewhere = key(T + 9000, id());
        await tokenizationKeys.insertKey(elsewhere);
        assert.deepEqual(await tokenizationKeys.freshestKey(mine), late, 'another merchant\'s key is not this merchant\'s');
        assert.deepEqual(await tokenizationKeys.freshestKey(elsewhere.merchantId), elsewhere);
        assert.equal(await tokenizationKeys.freshestKey(id()), undefined);
        assert.equal(await tokenizationKeys.key(randomUUID()), undefined);
        await assert.rejects(tokenizationKeys.insertKey({ ...early, publicKey: 'other' }));
        assert.deepEqual(await tokenizationKeys.key(early.id), early, 'the first insert stands');
      });

      test('purgeExpired deletes every merchant\'s keys that expired before the given time, and only those', async () => {
        const T = Date.UTC(2200, 0, 1);
        const key = (expiresAt: number) => ({
          id: randomUUID(), merchantId: id(), publicKey: randomBytes(294).toString('base64'), sealedPrivateKey: randomBytes(1200).toString('base64'), createdAt: now(), expiresAt,
        });
        const [gone, alsoGone, edge, kept] = [key(T - 2000), key(T - 1), key(T), key(T + 1000)];
        for (const k of [gone, alsoGone, edge, kept]) await tokenizationKeys.insertKey(k);
        assert.ok(await tokenizationKeys.purgeExpired(T) >= 2);
        assert.equal(await tokenizationKeys.key(gone.id), undefined);
        assert.equal(await tokenizationKeys.key(alsoGone.id), undefined);
        assert.deepEqual(await tokenizationKeys.key(edge.id), edge, 'a key expiring at the time given is kept');
        assert.deepEqual(await tokenizationKeys.key(kept.id), kept);
        assert.equal(await tokenizationKeys.purgeExpired(T), 0, 'nothing left to purge');
      });
    });

    describe('checkout store (COPYandPAY)', () => {
      const T0 = now();
      const checkout = (f: { merchant: Merchant; entity: Entity }, overrides: Partial<CheckoutRecord> = {}): CheckoutRecord => ({
        id: `${id().toUpperCase()}.sy01`, merchantId: f.merchant.id, entityId: f.entity.id,
        params: { amount: '12.00', currency: 'EUR', paymentType: 'DB', 'customer.email': 'jane@example.com' },
        registrationIds: [id()], status: 'open', paymentId: undefined, createdAt: T0, expiresAt: T0 + 1_800_000, ...overrides,
      });

      test('round-trip; claim() once while open and unexpired; reopen() only by the payment that holds it', async () => {
        const checkouts = createCheckoutStore(opened.storage.uow);
        const c = checkout(await merchant());
        await checkouts.insert(c);
        assert.deepEqual(await checkouts.get(c.id), c);
        assert.equal(await checkouts.get(`${id().toUpperCase()}.sy01`), undefined);
        const claim = (paymentId: string, at: number) => opened.storage.uow.run((tx) => checkouts.writer(tx).claim(c.id, paymentId, at));
        assert.equal(await claim('p1', c.expiresAt), false, 'expired at its expiry time');
        assert.equal(await claim('p1', c.createdAt), true);
        assert.equal(await claim('p2', c.createdAt), false, 'paid: a second payment cannot claim it');
        assert.deepEqual(await checkouts.get(c.id), { ...c, status: 'paid', paymentId: 'p1' });
        await opened.storage.uow.run((tx) => checkouts.writer(tx).reopen(c.id, 'p2'));
        assert.equal((await checkouts.get(c.id))?.status, 'paid', 'another payment cannot reopen it');
        await opened.storage.uow.run((tx) => checkouts.writer(tx).reopen(c.id, 'p1'));
        assert.deepEqual(await checkouts.get(c.id), { ...c, status: 'open', paymentId: 'p1' });
        assert.equal(await claim('p3', c.createdAt), true);
        assert.equal((await checkouts.get(c.id))?.paymentId, 'p3');
      });

      test('10 concurrent claims of one checkout: exactly one wins', async () => {
        const checkouts = createCheckoutStore(opened.storage.uow);
        const c = checkout(await merchant());
        await checkouts.insert(c);
        const wins = await Promise.all(Array.from({ length: 10 }, (_, i) =>
          opened.storage.uow.run((tx) => checkouts.writer(tx).claim(c.id, `p${i}`, c.createdAt))));
        assert.equal(wins.filter(Boolean).length, 1);
      });

      test('setInstrumentCard() points an enabled instrument at another card, never a deleted one', async () => {
        const f = await merchant();
        const first = newCard(f.merchant.id);
        const i: InstrumentRecord = { id: id(), merchantId: f.merchant.id, cardId: first.id, holderReference: '', status: 'enabled', futureUsage: undefined, storeInstrument: true, entityId: f.entity.id, createdAt: now(), updatedAt: now() };
        await insertInstrument(first, i);
        const renewed = newCard(f.merchant.id);
        const at = now();
        const moved = await opened.storage.uow.run(async (tx) => { await vaultWriter(tx).insertCard(renewed); return vaultWriter(tx).setInstrumentCard(i.id, renewed.id, at); });
        assert.equal(moved, true);
        assert.deepEqual(await instruments.instrument(i.id), { ...i, cardId: renewed.id, updatedAt: at });
        assert.deepEqual(await vault.card(first.id), first, 'the old card stays for the payments that used it');
        await setInstrumentStatus(i.id, 'deleted', now());
        assert.equal(await opened.storage.uow.run((tx) => vaultWriter(tx).setInstrumentCard(i.id, first.id, now())), false);
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

      test('purge(): forgets every key\'s hits at or before the time given, and only those', async () => {
        const [a, b] = [`ip:${id()}`, `ip:${id()}`];
        const T = 1_600_000_000_000;
        await throttle.hit(a, T, T - 1000, 10);
        await throttle.hit(b, T + 10, T - 1000, 10);
        await throttle.hit(b, T + 20, T - 1000, 10);
        assert.ok(await throttle.purge(T + 10) >= 2);
        // Only b's hit at T + 20 is left: with a limit of two, one more fits, and a's window is empty.
        assert.deepEqual(await throttle.hit(b, T + 30, T - 1000, 2), { allowed: true, oldest: T + 20 });
        assert.deepEqual(await throttle.hit(a, T + 30, T - 1000, 1), { allowed: true, oldest: T + 30 });
      });

      test('10 concurrent hits on one key with limit 2: exactly 2 allowed', async () => {
        const key = `ip:${id()}`;
        const T = 1_700_000_000_000;
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => throttle.hit(key, T + i, T - 60_000, 2)));
        assert.equal(results.filter((r) => r.allowed).length, 2);
        assert.equal(results.filter((r) => !r.allowed).length, 8);
      });

      test('unhit(): takes back one hit of the key at that time, and only one', async () => {
        const key = `ip:${id()}`;
        const T = 1_700_000_000_000;
        for (const at of [T, T, T + 5]) await throttle.hit(key, at, T - 1000, 10);
        await throttle.hit(`ip:${id()}`, T, T - 1000, 10);
        await throttle.unhit(key, T);
        // Two are left (T and T + 5): with a limit of three, one more fits.
        assert.deepEqual(await throttle.hit(key, T + 6, T - 1000, 3), { allowed: true, oldest: T });
        assert.equal((await throttle.hit(key, T + 7, T - 1000, 3)).allowed, false);
        await throttle.unhit(key, T);
        await throttle.unhit(key, T);
        assert.deepEqual(await throttle.hit(key, T + 8, T - 1000, 3), { allowed: true, oldest: T + 5 }, 'the other hit at T went, and nothing more');
        assert.equal((await throttle.hit(key, T + 9, T - 1000, 3)).allowed, false);
      });
    });

    describe('CVV hold store', () => {
      test('put() then take() returns the sealed text once and deletes it; a second put() replaces', async () => {
        const holds = createCvvHoldStore(opened.storage.uow);
        const key = `payment:${id()}`;
        const T = 1_700_000_000_000;
        await holds.put(key, 'sealed-1', T + 1000);
        await holds.put(key, 'sealed-2', T + 2000);
        assert.equal(await holds.has(key, T), true);
        assert.equal(await holds.has(key, T + 2000), false, 'not held at or after its expiry');
        assert.deepEqual(await holds.take(key), { sealed: 'sealed-2', expiresAt: T + 2000 });
        assert.equal(await holds.take(key), undefined);
        assert.equal(await holds.has(key, T), false);
      });

      test('10 concurrent take() of one hold: exactly one gets it', async () => {
        const holds = createCvvHoldStore(opened.storage.uow);
        const key = `instrument:${id()}`;
        await holds.put(key, 'sealed', 1_700_000_001_000);
        const taken = await Promise.all(Array.from({ length: 10 }, () => holds.take(key)));
        assert.equal(taken.filter((t) => t !== undefined).length, 1);
      });

      test('purgeBefore() deletes expired holds only; drop() deletes one', async () => {
        const holds = createCvvHoldStore(opened.storage.uow);
        const T = 1_800_000_000_000;
        const [old, live, dropped] = [`a:${id()}`, `b:${id()}`, `c:${id()}`];
        await holds.put(old, 's', T - 1);
        await holds.put(live, 's', T + 60_000);
        await holds.put(dropped, 's', T + 60_000);
        await holds.drop(dropped);
        assert.ok(await holds.purgeBefore(T) >= 1);
        assert.equal(await holds.take(old), undefined);
        assert.equal(await holds.take(dropped), undefined);
        assert.deepEqual(await holds.take(live), { sealed: 's', expiresAt: T + 60_000 });
      });
    });

    describe('late approval store (migration 098)', () => {
      async function latePayment(at: number, overrides: Partial<LateApproval> = {}): Promise<LateApproval> {
        const f = await merchant();
        const p = newPayment(f, {});
        await payWrite((w) => w.insertPayment(p));
        return {
          attemptId: id(), paymentId: p.id, merchantId: f.merchant.id, accountId: 'default', operation: 'sale', pspReference: 'LATE',
          originalReference: 'LATE', amount: { amount: 2500, currency: 'EUR' as Currency }, live: false, reversal: 'refund', reversalId: id(), inDoubt: false, triedAt: undefined, sends: 0,
          status: 'reversing', refusals: 0, nextTryAt: at, lastResult: undefined, foundAt: at, updatedAt: at, ...overrides,
        };
      }

      test('record() keeps one row per attempt (a notification sent twice); every field round-trips', async () => {
        const late = createLateApprovalStore(opened.storage.uow);
        const a = await latePayment(1_700_000_000_000, { live: true, reversal: undefined, originalReference: undefined, lastResult: 'x', inDoubt: true, triedAt: 1_700_000_000_001, sends: 2 });
        assert.equal(await late.record(a), true);
        assert.equal(await late.record({ ...a, reversalId: id(), amount: { amount: 1, currency: 'EUR' as Currency } }), false);
        assert.deepEqual(await late.get(a.attemptId), a);
        assert.equal(await late.get(id()), undefined);
        assert.deepEqual(await late.byReversalId(a.reversalId), a);
        assert.equal(await late.byReversalId(id()), undefined);
      });

      test('due() lists reversing rows whose time has come, the longest waiting first; update() moves a row only as it was read', async () => {
        const late = createLateApprovalStore(opened.storage.uow);
        const T = 1_900_000_000_000 + Number.parseInt(randomBytes(3).toString('hex'), 16) * 1000;
        const later = await latePayment(T - 10);
        const earlier = await latePayment(T - 20);
        const notYet = await latePayment(T + 1);
        const done = await latePayment(T - 30, { status: 'reversed' });
        for (const a of [later, earlier, notYet, done]) await late.record(a);
        const due = (await late.due(T, 1000)).map((a) => a.attemptId).filter((x) => [later, earlier, notYet, done].some((a) => a.attemptId === x));
        assert.deepEqual(due, [earlier.attemptId, later.attemptId]);
        const before = await late.unsettled();
        const change = { status: 'reversed' as const, reversalId: id(), inDoubt: true, triedAt: T - 5, sends: 1, refusals: 1, nextTryAt: T, lastResult: 'refund approved', updatedAt: T };
        assert.equal(await late.update(earlier.attemptId, earlier, change), true);
        // A second pass (another node) that read the row before the first moved it changes nothing.
        assert.equal(await late.update(earlier.attemptId, earlier, { ...change, status: 'operator', lastResult: 'stale' }), false);
        assert.deepEqual(await late.get(earlier.attemptId), { ...earlier, ...change });
        assert.equal(await late.unsettled(), before - 1);
      });
    });

    describe('settlement store', () => {
      const posting = (operationId: string, phase: Posting['phase'], leg: number, debit: Posting['debit'], credit: Posting['credit'], amount: number, at: number, merchantId: string): Posting => ({
        id: `${operationId}:${phase}:${leg}`, transferId: operationId, operationId, paymentId: `p-${operationId}`, merchantId, currency: 'EUR',
        pspAccountId: 'acq-conf', debit, credit, amount, phase, leg, createdAt: at,
      });

      test('a report is recorded once; receivable movements by day or by operation; settled ones known; exports by time', async () => {
        const f = await merchant();
        const uow = opened.storage.uow;
        const ledger = createLedgerStore(uow), settlement = createSettlementStore(uow);
        const T = Date.UTC(2026, 0, 10);
        const [a, b, c] = [id(), id(), id()];
        await uow.run((tx) => ledger.writer(tx).post([
          posting(a, 'posted', 0, 'receivable', 'payable', bigMinor, T + 1000, f.merchant.id),
          posting(b, 'posted', 0, 'refunds', 'receivable', 300, T + 2000, f.merchant.id),
          posting(c, 'pending', 0, 'authorized', 'holds', 900, T + 3000, f.merchant.id),
          posting(a, 'posted', 0, 'receivable', 'payable', 1, T + 86_400_000, f.merchant.id),
        ]));
        const day = await settlement.receivablePostings('acq-conf', { from: T, to: T + 86_400_000 });
        assert.deepEqual(day.map((p) => [p.operationId, p.amount]), [[a, bigMinor], [b, 300]], 'a hold is no movement; the duplicate id posted nothing');
        assert.deepEqual((await settlement.receivablePostings('acq-conf', { operationIds: [b, c, 'nope'] })).map((p) => p.operationId), [b]);
        assert.equal((await settlement.receivablePostings('other', { operationIds: [a] })).length, 0);

        const reportId = digest();
        const first = await uow.run(async (tx) => {
          const w = settlement.writer(tx);
          const inserted = await w.insertReport({ id: reportId, pspAccountId: 'acq-conf', day: '2026-01-10', summary: '{"n":1}', importedAt: T });
          await ledger.writer(tx).post([
            posting(a, 'settled', 0, 'fees', 'receivable', 20, T + 5000, f.merchant.id),
            posting(c, 'settled', clawbackLeg, 'receivable', 'settled', 20, T + 5000, f.merchant.id),
          ]);
          return inserted;
        });
        assert.equal(first, true);
        assert.equal(await uow.run((tx) => settlement.writer(tx).insertReport({ id: reportId, pspAccountId: 'acq-conf', day: '2026-01-10', summary: '{"n":2}', importedAt: T + 1 })), false);
        assert.equal(await settlement.reportSummary(reportId), '{"n":1}');
        assert.deepEqual([...await uow.run((tx) => settlement.writer(tx).settledMovements([a, b, c]))].sort(), [a, settledKey(c, true)].sort(), 'legs from clawbackLeg settle an undo');

        const between = await settlement.postingsPage(T, T + 86_400_000, f.merchant.id, undefined, 100);
        assert.deepEqual(between.map((p) => p.phase), ['posted', 'posted', 'pending', 'settled', 'settled']);
        assert.equal(between[0]!.amount, bigMinor, 'amounts above 2^31 come back as numbers');
        assert.equal((await settlement.postingsPage(T, T + 86_400_000, 'someone-else', undefined, 100)).length, 0);
        // Page by page, each after the last of the one before, in the same order.
        const paged = [];
        for (let after: (typeof between)[number] | undefined, page; (page = await settlement.postingsPage(T, T + 86_400_000, f.merchant.id, after, 2)).length > 0; after = page.at(-1)) paged.push(...page);
        assert.deepEqual(paged.map((p) => p.id), between.map((p) => p.id), 'pages of two make the same list');
        assert.equal((await settlement.workspaces([f.merchant.id])).get(f.merchant.id), f.merchant.workspaceId);
      });

      test('a merchant\'s postings summed by the database make the balances the postings themselves make', async () => {
        const f = await merchant();
        const uow = opened.storage.uow;
        const ledger = createLedgerStore(uow);
        const T = Date.UTC(2026, 0, 11);
        const [a, b, c, d] = [id(), id(), id(), id()];
        await uow.run((tx) => ledger.writer(tx).post([
          posting(a, 'pending', 0, 'authorized', 'holds', 900, T, f.merchant.id),
          posting(a, 'posted', 0, 'holds', 'authorized', 900, T + 1, f.merchant.id),
          posting(a, 'posted', 1, 'receivable', 'payable', bigMinor, T + 2, f.merchant.id),
          posting(b, 'posted', 0, 'receivable', 'payable', 500, T + 3, f.merchant.id),
          posting(c, 'posted', 0, 'refunds', 'receivable', 300, T + 4, f.merchant.id),
          posting(d, 'posted', 0, 'receivable', 'payable', 7, T + 5, 'someone-else'),
        ]));
        const sums = await ledger.sums(f.merchant.id);
        assert.deepEqual(balancesOf(sums), balancesOf(await ledger.postings({ merchantId: f.merchant.id })));
        assert.ok(sums.length < 6, 'summed, not listed');
        assert.equal(balancesOf(sums).find((x) => x.kind === 'receivable')!.balance, bigMinor + 500 - 300, 'amounts above 2^31 sum as numbers');
      });

      test('discrepancies are stored open, listed by status, merchant and report, and resolved once', async () => {
        const f = await merchant();
        const uow = opened.storage.uow;
        const settlement = createSettlementStore(uow);
        const reportId = digest();
        const d = (kind: string, merchantId: string | undefined, expectedCurrency?: string, net?: { fee: number; net: number }): DiscrepancyRecord => ({
          id: id(), reportId, pspAccountId: 'acq-conf', merchantId, kind, reference: id(), paymentId: undefined, operationId: undefined,
          currency: 'JPY', expected: bigMinor, expectedCurrency, reported: undefined, reportedFee: net?.fee, reportedNet: net?.net,
          status: 'open', note: undefined, createdAt: now(), resolvedAt: undefined,
        });
        // The second: a line in JPY naming a movement the ledger has in EUR; the third, a line whose net
        // is not its gross less its fee.
        const list = [d('missing_line', f.merchant.id), d('unknown_reference', undefined, 'EUR'), d('amount_mismatch', f.merchant.id, undefined, { fee: 170, net: bigMinor })];
        await uow.run((tx) => settlement.writer(tx).insertDiscrepancies(list));
        assert.deepEqual(await settlement.discrepancies({ reportId }), list);
        assert.deepEqual((await settlement.discrepancies({ merchantId: f.merchant.id, status: 'open' })).map((x) => x.id), [list[0]!.id, list[2]!.id]);
        const at = now();
        const resolved = await uow.run((tx) => settlement.writer(tx).resolve(list[0]!.id, 'found in next report', at));
        assert.deepEqual(resolved, { ...list[0]!, status: 'resolved', note: 'found in next report', resolvedAt: at });
        assert.equal(await uow.run((tx) => settlement.writer(tx).resolve(list[0]!.id, 'again', at + 1)), undefined);
        assert.deepEqual((await settlement.discrepancies({ reportId, status: 'open' })).map((x) => x.id), [list[1]!.id, list[2]!.id]);
        assert.deepEqual((await settlement.discrepancies({ id: list[1]!.id })).map((x) => x.kind), ['unknown_reference']);
      });

      test('PSP accounts by name: one merchant\'s, every merchant\'s, and the default acquirer', async () => {
        const f = await merchant(), g = await merchant();
        const name = `acq-${id().slice(0, 8)}`;
        for (const m of [f, g]) {
          await workflows.upsertAccount({ id: id(), merchantId: m.merchant.id, name, connector: 'simulator', settings: { fees: { captureBps: 1 } }, sealedSecrets: undefined, timeoutMs: undefined, createdAt: now(), updatedAt: now() });
        }
        const settlement = createSettlementStore(opened.storage.uow);
        assert.equal((await settlement.accountsNamed(name, undefined)).length, 2);
        const [mine] = await settlement.accountsNamed(name, f.merchant.id);
        assert.deepEqual([mine!.merchantId, mine!.settings], [f.merchant.id, { fees: { captureBps: 1 } }]);
        assert.deepEqual((await settlement.accountsNamed('default', undefined)).map((a) => [a.id, a.merchantId]), [['default', undefined]]);
      });
    });

    describe('dashboard users, sessions and audit log (migration 080)', () => {
      test('a user per email; sessions by token digest; the sign-in state; audit entries newest first by cursor, per merchant', async () => {
        const store = createDashboardStore(opened.storage.uow);
        const f = await merchant();
        const T = now();
        const user = { id: id(), email: `u-${id()}@example.com`, role: 'operator' as const, merchantId: f.merchant.id, failedSignIns: 0, lockedUntil: undefined, createdAt: T, passwordHash: 'scrypt$x' };
        assert.equal(await store.insertUser(user), true);
        assert.equal(await store.insertUser({ ...user, id: id() }), false, 'the email is taken');
        assert.deepEqual(await store.userByEmail(user.email), user);
        await store.setSignInState(user.id, { failedSignIns: 0, lockedUntil: T + 900_000 }, T);
        assert.equal((await store.userById(user.id))?.lockedUntil, T + 900_000);
        // A change from the current state, one at a time: ten concurrent increments all count.
        await store.setSignInState(user.id, { failedSignIns: 0, lockedUntil: undefined }, T);
        const bump = (st: { failedSignIns: number }) => ({ failedSignIns: st.failedSignIns + 1, lockedUntil: undefined });
        await Promise.all(Array.from({ length: 10 }, () => store.changeSignInState(user.id, bump, T)));
        assert.equal((await store.userById(user.id))?.failedSignIns, 10);
        assert.deepEqual(await store.changeSignInState(user.id, () => undefined, T), { changed: false, state: { failedSignIns: 10, lockedUntil: undefined } });
        assert.equal(await store.changeSignInState(id(), bump, T), undefined, 'no such user');
        await store.setPassword(user.id, 'scrypt$y', T + 1);
        const changed = await store.userById(user.id);
        assert.equal(changed?.passwordHash, 'scrypt$y');
        assert.equal(changed?.lockedUntil, undefined);
        const session = { tokenHash: digest(), userId: user.id, csrfToken: 'c'.repeat(32), ip: '203.0.113.9', createdAt: T, seenAt: T, expiresAt: T + 1000 };
        assert.equal(await store.insertSession(session, 'scrypt$x'), false, 'signed in with the password before the change');
        assert.equal(await store.session(session.tokenHash), undefined);
        assert.equal(await store.insertSession(session, 'scrypt$y'), true);
        assert.deepEqual(await store.session(session.tokenHash), session);
        await store.touchSession(session.tokenHash, T + 500);
        assert.equal((await store.session(session.tokenHash))?.seenAt, T + 500);
        assert.equal(await store.deleteExpiredSessions(T + 1000), 1);
        assert.equal(await store.session(session.tokenHash), undefined);
        await store.insertSession(session, 'scrypt$y');
        await store.setPassword(user.id, 'scrypt$z', T + 2);
        assert.equal(await store.session(session.tokenHash), undefined, 'a password change ends the user\'s sessions');
        const entries = [1, 2, 3].map((i) => ({
          id: id(), at: T + i, userId: user.id, email: user.email, merchantId: i === 3 ? undefined : f.merchant.id, action: `payment.capture`,
          subject: id(), outcome: 'ok' as const, detail: { amount: `${i}.00 EUR` }, ip: '203.0.113.9',
        }));
        for (const e of entries) await store.appendAudit(e);
        const mine = await store.audit({ merchantId: f.merchant.id, limit: 10 });
        assert.deepEqual(mine, [entries[1], entries[0]]);
        assert.deepEqual(await store.audit({ merchantId: f.merchant.id, before: { at: entries[1]!.at, id: entries[1]!.id }, limit: 10 }), [entries[0]]);
      });
    });

    describe('payment search (migration 080)', () => {
      test('lists newest first across merchants by cursor, filters, and finds a payment by each key', async () => {
        const search = createPaymentSearch(db);
        const f = await merchant();
        const g = await merchant();
        const made: PaymentRecord[] = [];
        for (let i = 0; i < 5; i++) {
          const at = now();
          const p = newPayment(i === 4 ? g : f, { initialKind: 'authorize', status: i % 2 ? 'declined' : 'authorized', amount: 1000 * (i + 1), currency: i === 3 ? 'USD' : 'EUR', createdAt: at, updatedAt: at });
          const o = newOperation(p, { id: p.id, merchantTransactionId: `conf-order-${p.id}`, pspReference: `PSP${p.id.slice(0, 8)}`, createdAt: at, updatedAt: at });
          await payWrite(async (w) => { await w.insertPayment(p); await w.insertOperation(o); });
          made.push(p);
        }
        const ids = (r: { payments: { id: string }[] }) => r.payments.map((x) => x.id);
        const first = await search.list({ merchantId: f.merchant.id, limit: 2 });
        assert.deepEqual(ids(first), [made[3]!.id, made[2]!.id]);
        assert.ok(first.next);
        const second = await search.list({ merchantId: f.merchant.id, limit: 2, after: decodeCursor(first.next!) });
        assert.deepEqual(ids(second), [made[1]!.id, made[0]!.id]);
        assert.equal(second.next, undefined);
        assert.deepEqual(ids(await search.list({ merchantId: f.merchant.id, status: 'declined', limit: 10 })), [made[3]!.id, made[1]!.id]);
        assert.deepEqual(ids(await search.list({ merchantId: f.merchant.id, currency: 'EUR' as never, minAmount: 2000, maxAmount: 3000, limit: 10 })), [made[2]!.id, made[1]!.id]);
        assert.deepEqual(ids(await search.list({ q: made[4]!.id, limit: 10 })), [made[4]!.id]);
        assert.deepEqual(ids(await search.list({ q: `conf-order-${made[2]!.id}`, limit: 10 })), [made[2]!.id]);
        assert.deepEqual(ids(await search.list({ q: `PSP${made[1]!.id.slice(0, 8)}`, limit: 10 })), [made[1]!.id]);
        assert.deepEqual(ids(await search.list({ q: made[4]!.id, merchantId: f.merchant.id, limit: 10 })), []);
        const summary = (await search.list({ q: made[0]!.id, limit: 1 })).payments[0]!;
        assert.equal(summary.merchantName, f.merchant.name);
        assert.equal(summary.amount, 1000);
        assert.equal(summary.reference, `conf-order-${made[0]!.id}`);
        const related = await search.related(made[0]!.id, [made[0]!.id]);
        assert.deepEqual(related, { executionId: undefined, challenges: [], webhooks: [] });
        const overview = await search.overview(made[0]!.createdAt, f.merchant.id);
        assert.equal(overview.volume.reduce((n, v) => n + v.count, 0), 4);
      });
    });
  });
}

conformance('store conformance: SQLite', openSqliteLocation);

const pgUp = await postgresAvailable();
conformance('store conformance: PostgreSQL', openPostgresLocation, pgUp ? {} : {
  skip: `PostgreSQL is not reachable at ${testPostgresUrl.replace(/\/\/[^@]*@/, '//***@')} (set TEST_DATABASE_URL); CI fails instead of skipping`,
});
