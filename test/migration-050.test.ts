/**
 * Migration 050_engine upgrades a store that already holds data: a store is brought to the last
 * migration before 050 with the migrations the gateway ships, filled with rows in the shape the
 * gateway wrote before the engine (payment-type letters, /v1 processing modes, executions payments
 * under a hidden entity, cascade attempts as payments, PSP account behaviours), then migrated to
 * the latest schema — on SQLite and on PostgreSQL (a throwaway schema, dropped afterwards). The
 * PostgreSQL half is skipped when no server answers, and fails under CI instead.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationResultSet } from 'kysely/migration';
import pg from 'pg';
import { migrationNames, openStorage, type StorageTarget } from '../src/storage/database.ts';
import { openSqlite } from '../src/storage/sqlite.ts';
import { openPostgres } from '../src/storage/postgres.ts';
import { initial } from '../src/storage/migrations/001_initial.ts';
import { challenges } from '../src/storage/migrations/002_challenges.ts';
import { webhooks } from '../src/storage/migrations/010_webhooks.ts';
import { executions } from '../src/storage/migrations/020_executions.ts';
import { registrations } from '../src/storage/migrations/025_registrations.ts';
import { browser } from '../src/storage/migrations/030_browser.ts';
import { cardFingerprintScope } from '../src/storage/migrations/035_card_fingerprint_scope.ts';
import { jobs } from '../src/storage/migrations/040_jobs.ts';
import { engine } from '../src/storage/migrations/050_engine.ts';
import { ledger } from '../src/storage/migrations/060_ledger.ts';
import { pspRedirects } from '../src/storage/migrations/078_psp_redirects.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { createApp, type App } from '../src/app.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { isCurrency } from '../src/money/money.ts';
import { secretDigest } from '../src/merchants/model.ts';
import { postgresAvailable, tempDir, testPostgresUrl } from './support/harness.ts';

/** The very migration objects the gateway applies; checked below against the gateway's own list. */
const shipped: Record<string, Migration> = {
  '001_initial': initial, '002_challenges': challenges, '010_webhooks': webhooks, '020_executions': executions,
  '025_registrations': registrations, '030_browser': browser, '035_card_fingerprint_scope': cardFingerprintScope,
  '040_jobs': jobs, '050_engine': engine, '060_ledger': ledger,
  '078_psp_redirects': pspRedirects,
};
const lastBeforeEngine = migrationNames[migrationNames.indexOf('050_engine') - 1]!;

/** Ids as the gateway made them (32 hex digits, which the /v1 dialect insists on), named for the reader. */
const hid = (name: string) => createHash('sha256').update(name).digest('hex').slice(0, 32);

/** Old rows are an hour old: far past the reconciler's "another node may still be calling" window. */
const T0 = Date.now() - 3_600_000;
const at = (n: number) => T0 + n * 1000;

const M = hid('mer_test_01');
const M_LIVE = hid('mer_live_01');
const E_OPP = hid('ent_opp_01');
const E_LIVE = hid('ent_opp_live_01');
const E_EXEC = hid('ent_executions_01');
const ACC = 'acc_alpha_01';
const ACC_B = 'acc_beta_01';
const behaviour = { latencyMs: 0, declines: [{ cardSuffixes: ['0002'], category: 'soft' }], timeouts: [{ amounts: [4242] }] };

/** Old payments: id, entity, payment-type letter, /v1 processing mode, status. */
const payments = {
  captured: { id: hid('pay_opp_captured'), merchant: M, entity: E_OPP, type: 'PA', mode: 'INTERNAL', status: 'captured', amount: 10_000 },
  lostLive: { id: hid('pay_opp_unknown_live'), merchant: M_LIVE, entity: E_LIVE, type: 'DB', mode: 'LIVE', status: 'unknown', amount: 2_500 },
  chargedBack: { id: hid('pay_opp_chargeback'), merchant: M, entity: E_OPP, type: 'DB', mode: 'EXTERNAL', status: 'charged_back', amount: 7_000 },
  awaiting3ds: { id: hid('pay_opp_awaiting'), merchant: M, entity: E_OPP, type: 'PA', mode: 'INTERNAL', status: 'pending', amount: 1_200 },
  execLost: { id: hid('pay_exec_unknown'), merchant: M, entity: E_EXEC, type: 'PA', mode: 'INTERNAL', status: 'unknown', amount: 5_000 },
  execRefunded: { id: hid('pay_exec_refunded'), merchant: M, entity: E_EXEC, type: 'DB', mode: 'INTERNAL', status: 'refunded', amount: 3_000 },
  paCp: { id: hid('pay_opp_pa_cp'), merchant: M, entity: E_OPP, type: 'PA.CP', mode: 'INTERNAL', status: 'captured', amount: 4_000 },
  execDeclined: { id: hid('pay_exec_declined_default'), merchant: M, entity: E_EXEC, type: 'DB', mode: 'INTERNAL', status: 'declined', amount: 3_000 },
} as const;
type OldPayment = (typeof payments)[keyof typeof payments];

interface OldTransaction {
  id: string; payment: OldPayment; seq: number; type: string; status: string; amount: number;
  resultCode: string | null; pspReference: string | null; referencedId?: string;
}
const tx = (id: string, payment: OldPayment, seq: number, type: string, status: string, amount: number,
  resultCode: string | null = null, pspReference: string | null = null, referencedId?: string): OldTransaction =>
  ({ id, payment, seq, type, status, amount, resultCode, pspReference, ...(referencedId ? { referencedId } : {}) });

const P = payments;
/** As before 050, a payment's opening transaction has the payment's id (what a merchant calls "the payment"). */
const transactions: OldTransaction[] = [
  tx(P.captured.id, P.captured, 0, 'PA', 'succeeded', 10_000, '000.100.110', 'PSPREF0001'),
  tx(hid('trx_cp_ok'), P.captured, 1, 'CP', 'succeeded', 10_000, '000.100.110', 'PSPREF0002', P.captured.id),
  tx(hid('trx_rf_pending'), P.captured, 2, 'RF', 'pending', 3_000, null, null, P.captured.id),
  tx(P.lostLive.id, P.lostLive, 0, 'DB', 'unknown', 2_500),
  // The connector test system's success code: what this merchant was answered, and chose.
  tx(P.chargedBack.id, P.chargedBack, 0, 'DB', 'succeeded', 7_000, '000.100.112', 'PSPREF0003'),
  tx(hid('trx_cb'), P.chargedBack, 1, 'CB', 'succeeded', 7_000, '000.100.110', null, P.chargedBack.id),
  tx(P.awaiting3ds.id, P.awaiting3ds, 0, 'PA', 'awaiting', 1_200, '000.200.000'),
  tx(P.execLost.id, P.execLost, 0, 'PA', 'unknown', 5_000),
  tx(P.execRefunded.id, P.execRefunded, 0, 'DB', 'succeeded', 3_000, '000.100.110', 'PSPREF0004'),
  tx(hid('trx_exec_rf_ok'), P.execRefunded, 1, 'RF', 'succeeded', 3_000, '000.100.110', 'PSPREF0005', P.execRefunded.id),
  tx(P.execDeclined.id, P.execDeclined, 0, 'DB', 'failed', 3_000, '800.100.152', 'PSPREF0006'),
  tx(P.paCp.id, P.paCp, 0, 'PA.CP', 'succeeded', 4_000, '000.100.110', 'PSPREF0007'),
];

const kindOf: Record<string, string> = { PA: 'authorize', DB: 'sale', 'PA.CP': 'sale', CP: 'capture', RF: 'refund', CB: 'chargeback' };
/** The /v1 bearer token of the test merchant, stored (as before) as its digest only. */
const accessToken = 'old-access-token-0123456789abcdef';
/** The cascade attempts of the old executions dialect: each was a payment of its own, keyed by that payment's id. */
const cascade = [
  { id: P.execLost.id, cascadeId: '6f1c0a52-0000-4000-8000-000000000001', seq: 1, accountId: ACC, accountName: 'alpha', authenticated: 1 },
  { id: P.execRefunded.id, cascadeId: '6f1c0a52-0000-4000-8000-000000000002', seq: 0, accountId: ACC_B, accountName: 'beta', authenticated: 0 },
  { id: P.execDeclined.id, cascadeId: '6f1c0a52-0000-4000-8000-000000000001', seq: 0, accountId: 'default', accountName: 'default', authenticated: 1 },
] as const;
const cascadeOf = (paymentId: string) => cascade.find((c) => c.id === paymentId);

/** Rows exactly as the gateway wrote them before 050 (column names and values of 001–040). */
async function seedOldShape(db: Kysely<any>): Promise<void> {
  await db.insertInto('merchants').values([
    { id: M, name: 'Test shop', live: 0, client_id: 'client-test-01', workspace_id: 'ws-test', created_at: at(0) },
    { id: M_LIVE, name: 'Live shop', live: 1, client_id: 'client-live-01', workspace_id: 'ws-live', created_at: at(0) },
  ]).execute();
  await db.insertInto('entities').values([
    { id: E_OPP, merchant_id: M, channel_name: 'web shop', unique_merchant_tx: 0, created_at: at(0) },
    { id: E_LIVE, merchant_id: M_LIVE, channel_name: 'web shop', unique_merchant_tx: 1, created_at: at(0) },
    { id: E_EXEC, merchant_id: M, channel_name: 'executions', unique_merchant_tx: 0, created_at: at(0) },
  ]).execute();
  await db.insertInto('credentials').values({ secret_hash: secretDigest(accessToken), merchant_id: M, kind: 'opp_bearer', created_at: at(0) }).execute();
  await db.insertInto('psp_accounts').values([
    { id: ACC, merchant_id: M, name: 'alpha', behaviour: JSON.stringify(behaviour), created_at: at(0), updated_at: at(0) },
    { id: ACC_B, merchant_id: M, name: 'beta', behaviour: JSON.stringify({ latencyMs: 5 }), created_at: at(0), updated_at: at(0) },
  ]).execute();
  for (const p of Object.values(payments)) {
    await db.insertInto('payments').values({
      id: p.id, merchant_id: p.merchant, entity_id: p.entity, initial_type: p.type, status: p.status, currency: 'EUR',
      amount: p.amount, card_id: null, mode: p.mode, version: 3, created_at: at(1), updated_at: at(2), method: 'card',
    }).execute();
  }
  for (const [i, t] of transactions.entries()) {
    await db.insertInto('transactions').values({
      id: t.id, payment_id: t.payment.id, seq: t.seq, merchant_id: t.payment.merchant, entity_id: t.payment.entity, type: t.type,
      status: t.status, amount: t.amount, currency: 'EUR', result_code: t.resultCode, psp_reference: t.pspReference,
      referenced_id: t.referencedId ?? null, merchant_transaction_id: `order-${i}`, short_id: `1000.${String(i).padStart(4, '0')}.0001`,
      echo: JSON.stringify({ merchantInvoiceId: `inv-${i}` }), details: JSON.stringify(t.resultCode ? { ConnectorTxID1: t.id } : {}),
      created_at: at(10 + i), updated_at: at(20 + i),
    }).execute();
  }
  await db.insertInto('cascade_attempts').values(cascade.map((c) => ({
    id: c.id, cascade_id: c.cascadeId, seq: c.seq, account_id: c.accountId, account_name: c.accountName,
    authenticated: c.authenticated, created_at: at(5),
  }))).execute();
}

interface Location {
  readonly kind: 'sqlite' | 'postgres';
  /** A connection to the store that applies no migration by itself. */
  connect(): Promise<Kysely<any>>;
  readonly migrationTableSchema: string | undefined;
  readonly target: StorageTarget;
  /** Holds the gateway's master key (and, for SQLite, the store itself). */
  readonly dataDir: string;
  destroy(): Promise<void>;
}

function sqliteLocation(): Location {
  const dataDir = tempDir('switchyard-mig050-');
  return {
    kind: 'sqlite', dataDir, migrationTableSchema: undefined, target: { kind: 'sqlite', dataDir },
    connect: async () => openSqlite(join(dataDir, 'switchyard.sqlite')).db,
    async destroy() { rmSync(dataDir, { recursive: true, force: true }); },
  };
}

function postgresLocation(): Location {
  const dataDir = tempDir('switchyard-mig050-');
  const schema = `sy_mig050_${randomBytes(6).toString('hex')}`;
  return {
    kind: 'postgres', dataDir, migrationTableSchema: schema, target: { kind: 'postgres', url: testPostgresUrl, schema },
    connect: async () => (await openPostgres(testPostgresUrl, { schema })).db,
    async destroy() {
      rmSync(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: testPostgresUrl });
      await client.connect();
      try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
    },
  };
}

const migratorOver = (db: Kysely<any>, loc: Location) => new Migrator({
  db, provider: { getMigrations: async () => shipped },
  ...(loc.migrationTableSchema ? { migrationTableSchema: loc.migrationTableSchema } : {}),
});

/** Rows as plain objects (node:sqlite hands out null-prototype ones). */
const plain = <T extends object>(rows: readonly T[]): T[] => rows.map((r) => ({ ...r }));

const appliedMigrations = async (db: Kysely<any>) =>
  (await db.selectFrom('kysely_migration').select(['name', 'timestamp']).orderBy('name').execute())
    .map((r) => ({ name: String(r.name), timestamp: String(r.timestamp) }));

function migrationSuite(name: string, makeLocation: () => Location, skip?: string) {
  describe(name, { skip }, () => {
    let loc: Location;
    let db: Kysely<any>;
    let upgrade: MigrationResultSet;

    before(async () => {
      loc = makeLocation();
      db = await loc.connect();
      const { error } = await migratorOver(db, loc).migrateTo(lastBeforeEngine);
      if (error) throw error;
      await seedOldShape(db);
      upgrade = await migratorOver(db, loc).migrateToLatest();
    });
    after(async () => {
      await db?.destroy();
      await loc?.destroy();
    });

    test('the test applies the gateway\'s own migrations, in its order', () => {
      assert.deepEqual(Object.keys(shipped).sort(), migrationNames);
    });

    test('the upgrade succeeds and applies everything after the last migration before it', () => {
      assert.equal(upgrade.error, undefined, `migration failed: ${String(upgrade.error)}`);
      const expected = migrationNames.slice(migrationNames.indexOf('050_engine'));
      assert.deepEqual(upgrade.results?.map((r) => [r.migrationName, r.status]), expected.map((n) => [n, 'Success']));
    });

    test('payment-type letters became operation kinds; /v1 processing modes became test or live', async () => {
      const ps = plain(await db.selectFrom('payments').select(['id', 'initial_type', 'mode', 'status', 'amount', 'version']).orderBy('id').execute());
      assert.deepEqual(ps, Object.values(payments).sort((a, b) => a.id.localeCompare(b.id)).map((p) => ({
        id: p.id, initial_type: kindOf[p.type], mode: p.mode === 'LIVE' ? 'live' : 'test', status: p.status, amount: p.amount, version: 3,
      })));
      const ts = plain(await db.selectFrom('transactions').select(['id', 'type', 'status', 'result_code', 'psp_reference', 'referenced_id', 'echo']).orderBy('id').execute());
      // What the merchant sent is kept (the migration may add the dialect's own keys beside it).
      assert.deepEqual(ts.map((r) => ({ ...r, echo: JSON.parse(r.echo).merchantInvoiceId })), [...transactions].sort((a, b) => a.id.localeCompare(b.id)).map((t) => ({
        id: t.id, type: kindOf[t.type], status: t.status, result_code: t.resultCode, psp_reference: t.pspReference,
        referenced_id: t.referencedId ?? null, echo: `inv-${transactions.indexOf(t)}`,
      })));
    });

    test('executions payments belong to the executions channel with no entity; /v1 payments keep theirs', async () => {
      const ps = plain(await db.selectFrom('payments').select(['id', 'channel', 'entity_id']).orderBy('id').execute());
      for (const p of Object.values(payments)) {
        const row = ps.find((r) => r.id === p.id);
        if (p.entity === E_EXEC) assert.deepEqual(row, { id: p.id, channel: 'executions', entity_id: null });
        else assert.deepEqual(row, { id: p.id, channel: 'opp', entity_id: p.entity });
      }
      const ts = await db.selectFrom('transactions').select(['id', 'entity_id']).execute();
      for (const t of transactions) {
        assert.equal(ts.find((r) => r.id === t.id)?.entity_id, t.payment.entity === E_EXEC ? null : t.payment.entity, t.id);
      }
    });

    test('every operation that went to a PSP has exactly one attempt, keyed by the operation id, at the account that made it', async () => {
      const attempts = await db.selectFrom('attempts').selectAll().execute();
      const sent = transactions.filter((t) => t.status !== 'awaiting' && t.type !== 'CB');
      assert.equal(attempts.length, sent.length);
      for (const t of sent) {
        const mine = attempts.filter((a) => a.transaction_id === t.id);
        assert.equal(mine.length, 1, `attempts of ${t.id}`);
        const c = cascadeOf(t.payment.id);
        const routed = c !== undefined && c.accountId !== 'default';
        assert.deepEqual({ ...mine[0], authenticated: Number(mine[0].authenticated), seq: Number(mine[0].seq) }, {
          id: t.id, payment_id: t.payment.id, transaction_id: t.id, seq: 0,
          account_id: c?.accountId ?? 'default', account_name: c?.accountName ?? 'default', connector: routed ? 'simulator' : 'default',
          authenticated: c?.authenticated ?? 0,
          // pending and unknown stay open: the reconciler asks the PSP about them by this id.
          status: t.status, reason: null, result_code: t.resultCode, psp_reference: t.pspReference,
          created_at: at(10 + transactions.indexOf(t)), updated_at: at(20 + transactions.indexOf(t)),
        }, t.id);
      }
      const recordedOnly = transactions.filter((t) => !sent.includes(t)).map((t) => t.id);
      assert.deepEqual(attempts.filter((a) => recordedOnly.includes(a.transaction_id)), []);
    });

    test('a payment remembers the PSP account of its cascade attempt; the default acquirer is no account', async () => {
      const ps = await db.selectFrom('payments').select(['id', 'psp_account_id']).execute();
      for (const p of Object.values(payments)) {
        const c = cascadeOf(p.id);
        const expected = c && c.accountId !== 'default' ? c.accountId : null;
        assert.equal(ps.find((r) => r.id === p.id)?.psp_account_id, expected, p.id);
      }
    });

    test('PSP accounts name the simulator connector and keep their behaviour as settings; cascade_attempts is gone', async () => {
      const accounts = await db.selectFrom('psp_accounts').select(['id', 'connector', 'settings']).orderBy('id').execute();
      assert.deepEqual(accounts.map((a) => ({ ...a, settings: JSON.parse(a.settings) })), [
        { id: ACC, connector: 'simulator', settings: behaviour },
        { id: ACC_B, connector: 'simulator', settings: { latencyMs: 5 } },
      ]);
      await assert.rejects(db.selectFrom('psp_accounts').select('behaviour').execute());
      await assert.rejects(db.selectFrom('cascade_attempts').selectAll().execute());
    });

    test('SQLite: no foreign key is broken and foreign keys are enforced again', async (t) => {
      if (loc.kind !== 'sqlite') return t.skip('SQLite only');
      assert.deepEqual(plain((await sql<object>`pragma foreign_key_check`.execute(db)).rows), []);
      assert.deepEqual(plain((await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db)).rows), [{ foreign_keys: 1 }]);
      // Enforced, not merely switched on: an attempt of a payment that does not exist is refused.
      await assert.rejects(db.insertInto('attempts').values({
        id: 'att_orphan', payment_id: hid('pay_missing'), transaction_id: hid('trx_missing'), seq: 0, account_id: 'default', account_name: 'default',
        connector: 'default', authenticated: 0, status: 'pending', created_at: at(0), updated_at: at(0),
      }).execute(), /FOREIGN KEY/);
    });

    test('opening the upgraded store again migrates nothing', async () => {
      const applied = await appliedMigrations(db);
      assert.deepEqual(applied.map((m) => m.name), migrationNames);
      await db.destroy();
      const storage = await openStorage(loc.target);
      try {
        assert.deepEqual(await appliedMigrations(storage.db), applied);
        assert.deepEqual((await migratorOver(storage.db, loc).migrateToLatest()).results, []);
      } finally {
        await storage.close();
      }
      db = await loc.connect();
    });

    describe('a gateway over the upgraded store', () => {
      let app: App;
      const logs: string[] = [];

      before(async () => {
        const base = loadConfig({ SWITCHYARD_DATA_DIR: loc.dataDir, PORT: '0', LOG_LEVEL: 'info' });
        const config: Config = { ...base, storage: loc.target };
        const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
        app = await createApp(config, { logger: createLogger({ level: 'info', destination: sink as never }) });
      });
      after(async () => { await app?.close(); });

      test('reads an old /v1 payment through the engine', async () => {
        const d = await app.payments.details(P.captured.id);
        assert.ok(d, 'payment found');
        assert.equal(d.payment.channel, 'opp');
        assert.equal(d.payment.entityId, E_OPP);
        assert.equal(d.payment.initialKind, 'authorize');
        assert.equal(d.payment.live, false);
        assert.equal(d.payment.status, 'captured');
        assert.equal(d.payment.pspAccountId, undefined);
        assert.deepEqual(d.operations.map((o) => [o.id, o.kind, o.status]),
          [[P.captured.id, 'authorize', 'succeeded'], [hid('trx_cp_ok'), 'capture', 'succeeded'], [hid('trx_rf_pending'), 'refund', 'pending']]);
        assert.deepEqual(d.operations[0]!.context, { merchantInvoiceId: 'inv-0' });
        assert.deepEqual(d.operations[0]!.amount, { amount: 10_000, currency: 'EUR' });
        assert.deepEqual(d.attempts.map((a) => [a.id, a.operationId, a.accountId, a.connector, a.status]), [
          [P.captured.id, P.captured.id, 'default', 'default', 'succeeded'],
          [hid('trx_cp_ok'), hid('trx_cp_ok'), 'default', 'default', 'succeeded'],
          [hid('trx_rf_pending'), hid('trx_rf_pending'), 'default', 'default', 'pending'],
        ]);
        const live = await app.payments.details(P.lostLive.id);
        assert.equal(live?.payment.live, true);
        assert.equal(live?.payment.initialKind, 'sale');
      });

      test('reads an old executions payment through the engine, at its cascade account', async () => {
        const d = await app.payments.details(P.execLost.id);
        assert.ok(d, 'payment found');
        assert.equal(d.payment.channel, 'executions');
        assert.equal(d.payment.entityId, undefined);
        assert.equal(d.payment.pspAccountId, ACC);
        assert.deepEqual(d.operations.map((o) => [o.kind, o.status, o.entityId]), [['authorize', 'unknown', undefined]]);
        assert.deepEqual(d.attempts.map((a) => [a.id, a.accountId, a.accountName, a.connector, a.authenticated, a.status]),
          [[P.execLost.id, ACC, 'alpha', 'simulator', true, 'unknown']]);
      });

      const v1 = async (id: string) => {
        const res = await app.server.inject({ method: 'GET', url: `/v1/query/${id}?entityId=${E_OPP}`, headers: { authorization: `Bearer ${accessToken}` } });
        assert.equal(res.statusCode, 200, `${res.body}\n${logs.filter((l) => /"level":50/.test(l)).slice(-2).join('')}`);
        return res.json() as { id: string; paymentType: string; amount: string; currency: string; merchantInvoiceId?: string; result: { code: string } };
      };

      test('answers a /v1 status query about an old payment with its old letters, amounts and codes', async () => {
        const pa = await v1(P.captured.id);
        assert.deepEqual([pa.id, pa.paymentType, pa.amount, pa.currency, pa.merchantInvoiceId, pa.result.code],
          [P.captured.id, 'PA', '100.00', 'EUR', 'inv-0', '000.100.110']);
        const cp = await v1(hid('trx_cp_ok'));
        assert.deepEqual([cp.paymentType, cp.result.code], ['CP', '000.100.110']);
        const cb = await v1(hid('trx_cb'));
        assert.equal(cb.paymentType, 'CB');
      });

      test('keeps what a /v1 merchant was told of a PA.CP payment', async () => {
        assert.equal((await v1(P.paCp.id)).paymentType, 'PA.CP');
      });

      test('keeps the connector test system (EXTERNAL) a /v1 payment was made in', async () => {
        assert.equal((await v1(P.chargedBack.id)).result.code, '000.100.112');
      });

      test('the reconciler settles old open operations by asking the PSP by the operation id', async () => {
        // The simulated PSP at account alpha received the old executions authorization before its
        // answer was lost; nobody sent it the other two.
        const alpha = await app.connectors.connectorFor(ACC);
        assert.ok(alpha, 'the migrated account has a connector');
        const eur = 'EUR';
        assert.ok(isCurrency(eur));
        const answer = await alpha.execute({ operation: 'authorize', attemptId: P.execLost.id, amount: { amount: 5_000, currency: eur }, live: false, testParameters: {} });
        assert.equal(answer.kind, 'approved');
        assert.equal(await app.simulator.lookup(P.lostLive.id), undefined);

        assert.equal(await app.payments.reconcile(), 3);
        await app.payments.idle();
        assert.deepEqual(logs.filter((l) => /could not reconcile/.test(l)), []);

        const lost = await app.payments.details(P.lostLive.id);
        assert.deepEqual(lost?.operations.map((o) => [o.status, o.reason]), [['failed', 'not_received']]);
        assert.deepEqual(lost?.attempts.map((a) => [a.id, a.status, a.reason]), [[P.lostLive.id, 'failed', 'not_received']]);
        assert.equal(lost?.payment.status, 'declined');

        const refund = (await app.payments.details(P.captured.id))?.operations.find((o) => o.id === hid('trx_rf_pending'));
        assert.deepEqual([refund?.status, refund?.reason], ['failed', 'not_received']);
        assert.equal((await app.payments.details(P.captured.id))?.payment.status, 'captured');

        const found = await app.payments.details(P.execLost.id);
        assert.deepEqual(found?.operations.map((o) => o.status), ['succeeded']);
        assert.deepEqual(found?.attempts.map((a) => [a.id, a.status, a.pspReference]), [[P.execLost.id, 'succeeded', answer.pspReference]]);
        assert.equal(found?.payment.status, 'authorized');

        // Nothing open is left that an old row could still hold, and awaiting operations wait for the shopper.
        assert.equal(await app.payments.reconcile(), 0);
        const awaiting = await app.payments.details(P.awaiting3ds.id);
        assert.deepEqual(awaiting?.operations.map((o) => o.status), ['awaiting']);
        assert.deepEqual(awaiting?.attempts, []);
      });
    });
  });
}

migrationSuite('migration 050_engine over existing data: SQLite', sqliteLocation);
const pgUp = await postgresAvailable();
if (!pgUp && process.env.CI) {
  test('PostgreSQL is reachable (required under CI)', () => assert.fail(`PostgreSQL is not reachable at ${testPostgresUrl.replace(/\/\/[^@]*@/, '//***@')}`));
}
migrationSuite('migration 050_engine over existing data: PostgreSQL', postgresLocation, pgUp ? undefined
  : `PostgreSQL is not reachable at ${testPostgresUrl.replace(/\/\/[^@]*@/, '//***@')} (set TEST_DATABASE_URL); CI fails instead of skipping`);
