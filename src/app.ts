import { ConfigError, type Config } from './config.ts';
import { cardBrands, isCardBrand } from './vault/card.ts';
import { attemptsOfOperation } from './payments/model.ts';
import { newerMigrations, openStorage, pendingMigrations, type Storage } from './storage/database.ts';
import { diskHasRoom } from './storage/disk-room.ts';
import { createClockGate, databaseNow, gatedUnitOfWork, type ClockGate } from './storage/clock-gate.ts';
import { sql } from 'kysely';
import { systemClock, type Clock } from './runtime/clock.ts';
import { randomIds, type Ids } from './runtime/ids.ts';
import { createLogger, type Logger } from './runtime/logger.ts';
import { createMerchantStore } from './merchants/kysely-store.ts';
import { createMerchantService, type MerchantService } from './merchants/service.ts';
import { createVaultStore } from './vault/kysely-store.ts';
import { createVaultService, type VaultService } from './vault/service.ts';
import { loadMasterKey } from './vault/keyring.ts';
import { createPaymentStore, pspAccountInUse } from './payments/kysely-store.ts';
import { createPaymentService, type PaymentService } from './payments/service.ts';
import { createChallengeStore } from './threeds/kysely-store.ts';
import { createThreeDsService, type ThreeDsService } from './threeds/service.ts';
import type { Challenge } from './threeds/store.ts';
import { createCvvCache, createSharedCvvCache } from './vault/cvv-cache.ts';
import { createCvvHoldStore } from './vault/cvv-hold-store.ts';
import { createSimulatedAcquirer, type SimulatedAcquirer } from './processors/simulator/connector.ts';
import { createLostAnswers } from './processors/simulator/kysely-store.ts';
import { NoStatusApi, type Connector, type InboundNotification, type ShopperReturn } from './processors/connector.ts';
import { withoutCardNumbers, withoutControlCharacters, type Outcome } from './processors/outcome.ts';
import { scrubPans } from './runtime/scrub.ts';
import { createConnectorRegistry, defaultAccount, type ConnectorRegistry } from './processors/registry.ts';
import { connectorFactories } from './processors/connectors.ts';
import { createBreakers, type Breakers } from './processors/breaker.ts';
import { createThrottleStore } from './throttle/kysely-store.ts';
import { createThrottle } from './throttle/service.ts';
import { buildServer } from './http/server.ts';
import { buildNumberOf } from './dialects/opp/envelope.ts';
import { shopperResultUrlOf } from './dialects/opp/render.ts';
import type { FastifyInstance } from 'fastify';
import { deriveKey } from './runtime/crypto.ts';
import { createInstrumentStore, createTokenizationKeyStore, vaultWriterOf } from './vault/kysely-store.ts';
import { registrationsOfPayments } from './payments/registrations-of-payments.ts';
import { createTokenizationKeys } from './vault/tokenization.ts';
import { createRegistrationService } from './vault/registrations.ts';
import { createInstrumentService } from './vault/instruments.ts';
import { createCardErasure } from './vault/erasure.ts';
import { createAccessTokens } from './merchants/tokens.ts';
import { createWorkflowStore } from './workflows/kysely-store.ts';
import { createWorkflowService, type WorkflowService } from './workflows/service.ts';
import { createExecutionStore, executionChannelsOf } from './executions/kysely-store.ts';
import { createExecutionService, type ExecutionService } from './executions/service.ts';
import { shopperStepOf } from './executions/model.ts';
import { createWaiters, listenForChanges, type ChangeListener, type Waiters } from './executions/waiters.ts';
import { createIdempotencyStore } from './idempotency/kysely-store.ts';
import { createIdempotency, type Idempotency } from './idempotency/service.ts';
import { renderEvent } from './dialects/executions/render.ts';
import { consumerWaitPath } from './dialects/executions/consumer-wait.ts';
import { createAddressPolicy } from './webhooks/address.ts';
import { createSender, type Sender } from './webhooks/sender.ts';
import { createWebhookStore, toOwedDelivery } from './webhooks/kysely-store.ts';
import { createWebhookService, type WebhookService } from './webhooks/service.ts';
import { createOppNotificationRenderer } from './dialects/opp/notification.ts';
import { loadAdminToken } from './admin/token.ts';
import { createLedgerStore } from './ledger/kysely-store.ts';
import { createLedgerService, type LedgerService } from './ledger/service.ts';
import { createCheckoutStore } from './checkouts/kysely-store.ts';
import { createCheckoutService } from './checkouts/service.ts';
import { createSettlementStore } from './ledger/settlement-store.ts';
import { createSettlementService, type SettlementService } from './ledger/settlement.ts';
import { createJobStore } from './jobs/kysely-store.ts';
import { createJobRunner, type JobRunner } from './jobs/service.ts';
import { createCardDataScreen } from './vault/free-text.ts';
import { createMetrics, type Metrics } from './runtime/metrics.ts';
import type { PaymentObserver } from './payments/change.ts';
import { outcomeLogger } from './payments/outcome-log.ts';
import type { UnitOfWork } from './storage/unit-of-work.ts';
import { createDashboardStore } from './dashboard/kysely-store.ts';
import { createDashboardAuth, type DashboardAuth } from './dashboard/service.ts';
import type { DialectAllows, PaymentAction } from './dashboard/deps.ts';
import { createPaymentSearch } from './search/kysely-store.ts';
import { ok, fail } from './runtime/result.ts';

export const version = '0.1.0';

export interface App {
  readonly config: Config;
  readonly storage: Storage;
  readonly merchants: MerchantService;
  readonly payments: PaymentService;
  readonly threeds: ThreeDsService;
  readonly vault: VaultService;
  /** The gateway's default acquirer (a simulated one unless a test gives another). */
  readonly processor: Connector;
  /** The simulated PSP behind every simulated account (its `received` shows what each account was sent). */
  readonly simulator: SimulatedAcquirer;
  readonly connectors: ConnectorRegistry;
  /** Each PSP account's circuit breaker, as this node sees it. */
  readonly breakers: Breakers;
  /** Drops the circuits of PSP accounts removed (run every minute on each node; tests call it). */
  sweepCircuits(): Promise<void>;
  readonly server: FastifyInstance;
  readonly logger: Logger;
  readonly workflows: WorkflowService;
  readonly executions: ExecutionService;
  readonly ledger: LedgerService;
  /** Settlement reports, reconciliation with the ledger, discrepancies and postings exports. */
  readonly settlement: SettlementService;
  readonly idempotency: Idempotency;
  readonly waiters: Waiters;
  /** PostgreSQL only: the LISTEN connection that wakes long-polls for changes made on other nodes. */
  readonly changeListener: ChangeListener | undefined;
  readonly webhooks: WebhookService;
  /** The operator token for /admin and /admin/api. */
  readonly admin: { readonly token: string };
  /** Periodic work claimed in the database (reconciler, sweeps, purges); `main.ts` starts it, `close` stops it. */
  readonly jobs: JobRunner;
  /** This instance's own metrics registry, served at `/metrics`. */
  readonly metrics: Metrics;
  /** The dashboard's users, sessions and audit log. */
  readonly dashboard: DashboardAuth;
  /** Whether this node's clock agrees with the database's (on PostgreSQL); it writes nothing while not. */
  readonly clockGate: ClockGate;
  close(): Promise<void>;
}

export interface AppOverrides {
  clock?: Clock;
  ids?: Ids;
  logger?: Logger;
  processor?: Connector;
  /** Where the gateway's `/demo` redirects (the demo storefront `main.ts` starts on its own origin). */
  demoUrl?: string;
  /** The webhook HTTP client (tests may wrap it). */
  sender?: Sender;
  /** `existing`: refuse a store without card keys instead of making them (the CLI: only the server makes them). */
  keyRing?: 'existing';
  /** This machine's clock as compared with the database's (tests of a node whose clock is off; `clock` may be a test's). */
  wallClock?: () => number;
}

/** Composition root: config → storage → services → HTTP server (+ the webhook worker, started by main). Nothing else builds things. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  // Told here, above the settings (which know no card brands): a misspelt brand would be taken and
  // do nothing, its cards expiring on the default.
  const unknownBrand = Object.keys(config.authorizationExpiryByBrandMs).find((b) => !isCardBrand(b));
  if (unknownBrand !== undefined) {
    throw new ConfigError(`SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "${unknownBrand}" is not a brand (one of ${cardBrands.join(', ')})`);
  }
  const clock = overrides.clock ?? systemClock;
  const ids = overrides.ids ?? randomIds;
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const storage = await openStorage(config.storage, {
    unit: (outcome, seconds) => metrics.unitOfWork(outcome, seconds),
    batch: (size, seconds) => metrics.commitBatch(size, seconds),
    flush: (seconds) => metrics.walFlush(seconds),
    connectionLost: (err) => logger.warn({ err: err.message }, 'a PostgreSQL connection broke; the pool opens a new one'),
  });
  const newer = await newerMigrations(storage);
  if (newer.length > 0) logger.warn({ migrations: newer }, 'the store was migrated by a newer release (a rolling upgrade under way): serving it as this release knows it; upgrade this node');
  const locking = storage.kind === 'postgres';
  // Nodes sharing a PostgreSQL database judge each other's stamped times with their own clocks (the
  // reconciler's "older than twice the PSP timeout", a delivery's lease, the status limit's minute):
  // a node whose clock is off by more than half the smallest of those margins writes nothing.
  const maxSkewMs = Math.min(config.pspTimeoutMs, config.webhooks.timeoutMs, config.jobs.leaseMs / 2) / 2;
  const clockGate = createClockGate({
    databaseNow: () => databaseNow(storage.db, storage.kind),
    maxSkewMs,
    logger,
    ...(overrides.wallClock ? { wallClock: overrides.wallClock } : {}),
  });
  if (locking) clockGate.start();
  const uow = gatedUnitOfWork(storage.uow, clockGate);
  // PostgreSQL: long-polls on other nodes of this schema are woken through LISTEN/NOTIFY on its channel.
  const executionChannels = storage.schema !== undefined ? executionChannelsOf(storage.schema) : [];
  const master = loadMasterKey({ configured: config.masterKey, dataDir: config.dataDir });
  const masterKey = master.key;
  const merchants = createMerchantService({ store: createMerchantStore(uow), clock, ids });
  const vaultStore = createVaultStore(uow);
  const vault = await createVaultService({ store: vaultStore, clock, ids, masterKey: master, ...(overrides.keyRing ? { keyRing: overrides.keyRing } : {}) });
  const simulator = createSimulatedAcquirer(config.simulator, Math.random, createLostAnswers(uow, clock));
  const processor = overrides.processor ?? simulator;
  const factories = connectorFactories({ simulator });
  // PSP credentials are sealed under the vault's key ring; a live merchant routes only to real PSPs.
  const workflows = createWorkflowService({
    store: createWorkflowStore(uow, pspAccountInUse), clock, ids, connectors: factories, secrets: vault,
    merchantOf: (id) => merchants.byId(id), defaultSimulated: processor.simulated === true, maxTimeoutMs: config.pspTimeoutMs,
    onAccountRemoved: () => pruneCircuits(),
  });
  // Accounts stored before credentials were sealed are sealed now (and read as they are until then).
  const sealedNow = await workflows.sealUnsealed();
  if (sealedNow > 0) logger.info({ accounts: sealedNow }, 'sealed the credentials of PSP accounts stored in the clear');
  // Per node: each judges a PSP by its own calls (docs/architecture.md, PSP accounts and safety).
  const breakers = createBreakers({
    clock, settings: config.breaker,
    onChange: (account, state) => {
      metrics.pspCircuit(account, state);
      logger[state === 'open' ? 'warn' : 'info']({ pspAccountId: account, circuit: state }, `PSP account circuit ${state}`);
    },
  });
  // The circuits (and their series) of accounts removed, here or on another node, go: a removed
  // account's circuit would otherwise read open on every scrape until the node restarts, and the
  // map would keep every account this node ever called.
  const pruneCircuits = async () => {
    try {
      // The gateway's own acquirer is no row: its circuit stays.
      const existing = new Set([defaultAccount.id, ...await workflows.accountIds()]);
      for (const id of breakers.forgetAllBut(existing)) metrics.forgetPspCircuit(id);
    } catch (err) {
      logger.warn({ err: String(err) }, 'the circuits of removed PSP accounts could not be swept now; the next sweep does');
    }
  };
  const circuitSweep = setInterval(() => { void pruneCircuits(); }, 60_000);
  circuitSweep.unref();
  // A payment's attempts go to the connector of their PSP account; without one, to the default acquirer.
  const connectors = createConnectorRegistry({
    defaultConnector: processor, factories, accountOf: (id) => workflows.routedAccount(id), breakers, defaultTimeoutMs: config.pspTimeoutMs,
  });
  const threeds = createThreeDsService({ store: createChallengeStore(uow, { seal: vault.sealSecret, open: vault.openSecret }), clock, ids });
  // The CVV holder for /v1 payments awaiting 3-D Secure and for instruments' first authorization:
  // one process owns the embedded store, so memory; nodes of a PostgreSQL cluster share sealed rows.
  const cvvs = storage.kind === 'postgres'
    ? createSharedCvvCache({ store: createCvvHoldStore(uow), key: deriveKey(masterKey, 'cvv-holds'), clock })
    : createCvvCache(clock);
  const connectorFor = async (id: string | undefined) => { const c = await connectors.connectorFor(id); return c && timedConnector(c, metrics, config.pspTimeoutMs); };
  const paymentStore = createPaymentStore(uow);
  const payments = createPaymentService({
    uow, store: paymentStore, vaultWriter: vaultWriterOf(storage.db), vault, threeds, cvvs, clock, ids, logger,
    connectorFor,
    rulesOf: (merchantId, code) => workflows.rulesOf(merchantId, code),
    accountOf: (id) => workflows.routedAccount(id),
    pspTimeoutMs: config.pspTimeoutMs, asyncTimeoutMs: config.asyncTimeoutMs, bankReceiptDelayMs: config.bankReceiptDelayMs,
    authorizationExpiryMs: config.authorizationExpiryMs, authorizationExpiryByBrandMs: config.authorizationExpiryByBrandMs,
  });
  const instrumentStore = createInstrumentStore(uow);
  const instruments = createInstrumentService({
    uow, store: instrumentStore, vault, clock, cvvs, ephemeralTtlMs: config.ephemeralInstrumentTtlMs,
  });
  const tokenizationKeys = createTokenizationKeys({
    store: createTokenizationKeyStore(uow), sealingKey: deriveKey(masterKey, 'tokenization-keys'), clock,
  });
  const registrations = createRegistrationService({ uow, store: instrumentStore, vault, clock, ids, firstChargeOpen: (cardId, at) => paymentStore.firstChargeOpen(cardId, at) });
  const waiters = createWaiters();
  const executions = createExecutionService({
    uow, store: createExecutionStore(uow, executionChannels), merchants, payments, workflows, instruments, threeds,
    waiters, clock, ids, logger, renderEvent, publicUrl: config.publicUrl,
    chargedElsewhere: (tx, cardId, paymentId) => paymentStore.writer(tx).chargedElsewhere(cardId, paymentId),
  });
  // The executions dialect's view of its payments moves in the engine's own units of work.
  payments.observe(executions);
  // The books post every money movement in the unit of work of the change it records.
  const ledgerStore = createLedgerStore(uow);
  const ledger = createLedgerService({ store: ledgerStore, clock });
  payments.observe(ledger);
  // COPYandPAY: a declined payment opens its checkout again, in the payment's own unit of work.
  const checkouts = createCheckoutService({
    store: createCheckoutStore(uow), clock, ids, releaseReference: (tx, id) => paymentStore.writer(tx).releaseReference(id),
  });
  payments.observe(checkouts);
  // A registration made with a payment is not kept when the payment ended before any issuer saw it,
  // or with an issuer's refusal for good.
  payments.observe(registrationsOfPayments({ vaultWriter: vaultWriterOf(storage.db), paymentWriter: (tx) => paymentStore.writer(tx), ids }));
  const settlement = createSettlementService({ uow, store: createSettlementStore(uow), ledger: ledgerStore, clock, ids });
  payments.observe(outcomeCounter(uow, metrics));
  payments.observe(outcomeLogger(uow, logger));
  metrics.setLongPollProbe(() => waiters.size);
  metrics.setCircuitProbe(() => breakers.states());
  const webhookStore = createWebhookStore(uow);
  metrics.setBacklogProbe(async () => {
    const now = clock.now();
    const db = storage.db;
    const [waiting, outbox, deliveries, lateApprovals] = await Promise.all([
      // Open since: unknown since the lost answer, pending since its attempt went out (never since
      // the reconciler last asked, which touches the row and would hide an outcome open for days).
      db.selectFrom('transactions as t').select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('t.status', 'in', ['unknown', 'pending'])
        .where(sql<number>`coalesce(t.unknown_since, (select max(a.created_at) from attempts a where a.transaction_id = t.id), t.created_at)`, '<', now - config.pspTimeoutMs)
        .executeTakeFirstOrThrow(),
      webhookStore.oldestUndispatchedAt(),
      db.selectFrom('webhook_deliveries').select((eb) => [eb.fn.countAll<string | number>().as('n'), eb.fn.min<number | string | null>('created_at').as('oldest')])
        .where('status', '=', 'pending').where(toOwedDelivery).executeTakeFirstOrThrow(),
      payments.lateApprovalsUnsettled(),
    ]);
    const age = (oldest: number | string | null) => oldest === null ? 0 : Math.max(0, (now - Number(oldest)) / 1000);
    return {
      unknownWaiting: Number(waiting.n), outboxLagSeconds: age(outbox ?? null),
      webhookPending: Number(deliveries.n), webhookOldestSeconds: age(deliveries.oldest), lateApprovalsUnreversed: lateApprovals,
    };
  });
  /** Where the shopper's browser goes once a payment's challenge is over: where the payment's dialect says. */
  async function shopperDestination(v: { payment: { id: string; channel: string }; operation: Parameters<typeof shopperResultUrlOf>[0] }, what: string): Promise<string> {
    if (v.payment.channel === 'opp') {
      // A later PSP of the cascade asked for a challenge of its own: the shopper goes there (the
      // gateway's page forwards to the PSP's), not back to a shop that would find the payment pending.
      const next = v.operation.status === 'awaiting' ? await threeds.openOf('payment', v.payment.id) : undefined;
      return next ? threeds.urlOf(next, config.publicUrl ?? '') : shopperResultUrlOf(v.operation);
    }
    const e = await executions.byPayment(v.payment.id);
    const step = e && shopperStepOf(e);
    const info = e?.authorize?.returnInfo;
    if (!e || !info || !step) throw new Error(`${what} names no execution awaiting it`);
    // While the authorization is still at a PSP (a second tab answering meanwhile, a cascade moving
    // on) the shopper waits on the consumerWait page, which sends them on once there is an outcome:
    // sent to returnInfo.success, they reached the shop's success page of a payment then declined.
    return step.kind === 'return' ? step.url : step.kind === 'challenge' ? step.href : (config.publicUrl ?? '') + consumerWaitPath(e.id);
  }
  // A finished hosted page runs its payment on, then sends the shopper on.
  threeds.onOutcome('payment', async (challenge, outcome) =>
    shopperDestination(await payments.completeChallenge(challenge.subject.id, outcome), `challenge ${challenge.id}`));
  // A second tab answering a challenge the first answered goes where the shopper is sent now.
  const sentNow = async (challenge: Challenge) => {
    const d = await payments.details(challenge.subject.id);
    const initial = d?.operations.find((o) => o.seq === 0);
    return d && initial ? shopperDestination({ payment: d.payment, operation: initial }, `challenge ${challenge.id}`) : undefined;
  };
  threeds.onAnswered('payment', sentNow);
  // A challenge reached past its expiry before the sweep closed it: its payment ends now, as the
  // sweep would end it, and the shopper goes back to the merchant instead of a dead page.
  threeds.onLapsed('payment', async (challenge) => {
    await payments.expireAwaitingOf(challenge.subject.id);
    return sentNow(challenge);
  });
  // The shopper back from a PSP's own 3-D Secure: the PSP finishes the attempt, then the same.
  threeds.onReturn(async (paymentId, attemptId, parameters, admit) => {
    const v = await payments.completePspReturn(paymentId, attemptId, parameters, admit);
    return v && shopperDestination(v, `payment ${paymentId}`);
  });
  const changeListener = config.storage.kind === 'postgres' && executionChannels.length > 0
    ? listenForChanges({ url: config.storage.url, channels: executionChannels, waiters, logger })
    : undefined;
  const idempotency = createIdempotency({ store: createIdempotencyStore(uow), clock, key: deriveKey(masterKey, 'idempotency-requests') });
  const tokens = createAccessTokens({ key: deriveKey(masterKey, 'access-tokens'), clock });
  const adminToken = loadAdminToken({ configured: config.adminToken, dataDir: config.dataDir });
  const throttle = createThrottle({ store: createThrottleStore(uow), clock });
  const buildNumber = buildNumberOf(version, clock.now());
  // Card numbers typed into non-card fields are masked under a key of their own (docs/compatibility.md).
  const cardData = createCardDataScreen(deriveKey(masterKey, 'free-text-card-numbers'));
  const policy = createAddressPolicy(config.webhooks.allow);
  const webhooks = createWebhookService({
    store: webhookStore, merchants, clock, ids, logger,
    sealingKey: deriveKey(masterKey, 'webhook-secrets'), policy, sender: overrides.sender ?? createSender(policy),
    opp: createOppNotificationRenderer({ merchants, payments, buildNumber }), settings: config.webhooks,
  });
  // Each is a job of its own: one that throws is logged and retried next period, and the others run on.
  const jobStore = createJobStore(uow);
  const jobs = createJobRunner({
    store: jobStore, clock, ids, logger, leaseMs: config.jobs.leaseMs, maxWaitMs: config.jobs.pollMs,
    ...(overrides.wallClock ? { wallClock: overrides.wallClock } : {}), maxSkewMs,
  });
  // Attempts whose PSP answer was lost are asked about again until the PSP settles them, and
  // authorizations a crash left unfinished move on once the engine knows more.
  const reconcileEveryMs = Math.max(1000, Math.min(config.pspTimeoutMs, 30_000));
  jobs.register({ name: 'reconcile-payments', intervalMs: reconcileEveryMs, run: () => payments.reconcile() });
  // Charges a PSP approved after the gateway had ended their attempts go back to the cardholder.
  jobs.register({ name: 'reverse-late-approvals', intervalMs: reconcileEveryMs, run: () => payments.reverseLateApprovals() });
  jobs.register({ name: 'purge-idempotency', intervalMs: reconcileEveryMs, run: () => idempotency.purge() });
  // Shoppers who never come back, and the simulated bank's receipts, are dealt with on the clock.
  const sweepEveryMs = Math.max(1000, Math.min(config.bankReceiptDelayMs, 5_000));
  jobs.register({ name: 'expire-awaiting', intervalMs: sweepEveryMs, run: () => payments.expireAwaiting() });
  jobs.register({ name: 'confirm-bank-transfers', intervalMs: sweepEveryMs, run: () => payments.confirmBankTransfers() });
  // Authorizations expire in days; a minute's lag past the expiry is immaterial.
  jobs.register({ name: 'expire-authorizations', intervalMs: 60_000, run: () => payments.expireAuthorizations() });
  // A capture's released rest its own settlement could not void (the process stopped, the store
  // was away) is voided within minutes rather than held on the shopper's card until the expiry.
  jobs.register({
    name: 'release-capture-rests', intervalMs: 60_000,
    run: async () => payments.releaseCaptureRests(await jobStore.lastSucceeded('release-capture-rests'), await jobStore.lastFinished('release-capture-rests')),
  });
  // Held codes outlive no page or instrument they were held for: rows and memory alike are swept
  // (memory pruned itself only when full, so a quiet gateway kept expired codes until a restart).
  jobs.register({ name: 'purge-cvv-holds', intervalMs: sweepEveryMs, run: () => cvvs.purgeExpired() });
  // Card numbers no instrument may charge any more are erased within the hour of the deletion (of the payment's end, when one was still open).
  const cardErasure = createCardErasure({
    store: vaultStore, clock, inUse: (cardId) => paymentStore.openWithCard(cardId), ephemeralTtlMs: config.ephemeralInstrumentTtlMs,
    decoyKey: (cardId) => vault.decoyKey(cardId),
  });
  jobs.register({ name: 'erase-deleted-cards', intervalMs: 3_600_000, run: () => cardErasure.eraseDeleted() });
  // Client-side encryption keys long expired: a merchant's page adds two a day.
  jobs.register({ name: 'purge-tokenization-keys', intervalMs: 3_600_000, run: () => tokenizationKeys.purgeExpired() });
  const dashboard = createDashboardAuth({ store: createDashboardStore(uow), clock, ids, throttle });
  jobs.register({ name: 'purge-dashboard-sessions', intervalMs: 3_600_000, run: () => dashboard.purgeSessions() });
  // COPYandPAY checkouts that expired unpaid (every widget page load makes one).
  jobs.register({ name: 'purge-checkouts', intervalMs: 3_600_000, run: () => checkouts.purgeUnpaid() });
  // Webhook history past its retention: the bodies hold the shopper's details, and the tables grow with every event.
  jobs.register({ name: 'purge-webhook-history', intervalMs: 3_600_000, run: () => webhooks.purgeFinished() });
  // Rate-limit counts past every window: most keys (a source address, a payment whose status was read) are never counted again.
  jobs.register({ name: 'purge-rate-hits', intervalMs: 600_000, run: () => throttle.purge() });
  const search = createPaymentSearch(storage.db, cardData.mask);
  let closing: Promise<void> | undefined;
  const server = await buildServer({
    logger, timeouts: config.http, metrics: { metrics, token: config.metricsToken }, version,
    readiness: {
      draining: () => closing !== undefined,
      checks: {
        store: async () => { await sql`select 1`.execute(storage.db); },
        migrations: async () => {
          const pending = await pendingMigrations(storage);
          if (pending.length > 0) throw new Error(`migrations not applied: ${pending.join(', ')}`);
        },
        keyRing: () => { if (vault.loadedKeyVersions().length === 0) throw new Error('no key version is loaded'); },
        // The embedded store's disk nearly full: its commits fail (503 to every write) while reads
        // still answer, so the read above would say ready.
        ...(storage.kind === 'sqlite' ? { disk: async () => { await diskHasRoom(config.dataDir); } } : {}),
        clock: () => { const off = clockGate.refusal(); if (off) throw off; },
      },
    },
    opp: {
      merchants, payments, threeds, registrations, throttle, clock, publicUrl: config.publicUrl,
      buildNumber, statusLimit: { calls: 2, windowMs: 60_000 }, cardData, checkouts,
    },
    hosted: { threeds, clock, throttle },
    pspNotifications: {
      logger,
      async accountOf(merchantId, name) {
        const account = (await workflows.accounts(merchantId)).find((a) => a.name === name);
        return account && { id: account.id, connector: await connectorFor(account.id) };
      },
      settle: (accountId, attemptId, outcome, reverses, amount, settles) => payments.settleFromPsp(accountId, attemptId, outcome, { reverses, ...(amount ? { amount } : {}), ...(settles ? { settles } : {}) }),
      recordDispute: (accountId, dispute) => payments.recordDispute(accountId, dispute),
      clock,
    },
    executions: {
      merchants, tokens, executions, instruments, idempotency, longPollMs: config.longPollMs, publicUrl: config.publicUrl, cardData,
      browser: { tokenizationKeys, throttle, clock, tokenizeLimit: { calls: 30, windowMs: 60_000 } },
    },
    admin: { merchants, workflows, adminToken, circuitOf: (accountId) => breakers.view(accountId), publicUrl: config.publicUrl },
    webhookAdmin: { webhooks, token: adminToken, merchantExists: async (id) => /^[0-9a-f]{32}$/.test(id) && (await merchants.byId(id)) !== undefined },
    ledgerAdmin: { ledger, settlement, merchantExists: async (id) => (await merchants.byId(id)) !== undefined, token: adminToken },
    paymentAdmin: { search, payments, ledger, token: adminToken },
    dashboard: {
      auth: dashboard, search, payments, merchants, workflows, webhooks, vault, ledger, settlement, clock,
      act: dashboardAction({ merchants, payments, executions }), dialectAllows: dashboardDialectAllows(executions), idempotency, publicUrl: config.publicUrl, maskCardNumbers: cardData.mask,
    },
    sdk: { merchants, demoUrl: overrides.demoUrl, checkoutMerchant: async (id) => (await checkouts.get(id))?.merchantId },
    adminAudit: (e) => dashboard.audit({
      user: undefined, ip: e.ip, operator: !(e.outcome === 'refused' && e.status === 401),
      email: e.outcome === 'refused' && e.status === 401 ? 'admin API (no valid operator token)' : 'admin API (operator token)',
    },
      { action: e.action, outcome: e.outcome, subject: e.subject, merchantId: e.merchantId, detail: { status: e.status } }),
  });
  return {
    config, storage, merchants, payments, threeds, vault, processor, simulator, connectors, breakers, server, logger, workflows, executions, ledger, settlement, idempotency, waiters, changeListener,
    webhooks, admin: { token: adminToken }, jobs, metrics, dashboard, clockGate, sweepCircuits: pruneCircuits,
    close() {
      // From the first call on, `/ready` says draining while jobs and deliveries wind down and
      // requests under way finish; a second call waits for the same shutdown.
      closing ??= (async () => {
        // Held long-polls answer what they read now rather than hold the exit for their full time.
        waiters.stop();
        clockGate.stop();
        clearInterval(circuitSweep);
        // A database that stopped answering would hold the exit for ever: what is still open after
        // a bound is left (every acknowledged commit is durable; the reconciler has the rest; a
        // job's or a delivery's lease runs out and another node takes it).
        const bounded = async (what: string, work: Promise<unknown>, ms: number) => {
          let timer: NodeJS.Timeout | undefined;
          const gaveUp = await Promise.race([work.then(() => false), new Promise<boolean>((resolve) => { timer = setTimeout(resolve, ms, true); })]).finally(() => clearTimeout(timer));
          if (gaveUp) logger.error({ ms }, `shutdown: ${what} did not finish in time; stopping without it`);
        };
        // One deadline for the winding down, not one per step: the PSP timeout and a margin. Each
        // step bounded on its own, a frozen database held the exit for their sum (the jobs' and the
        // deliveries' ends each waiting for a connection), past what a process manager waits.
        const deadline = Date.now() + Math.min(config.pspTimeoutMs + 10_000, 0x7fff_ffff);
        const left = () => Math.max(0, deadline - Date.now());
        await bounded('the periodic jobs', jobs.stop(), left());
        await bounded('webhook deliveries', webhooks.stop(), left());
        // Requests under way finish (a PSP call ends by its timeout); past the deadline, what is
        // still open is closed: the payments behind it go on below, and the reconciler has them.
        const late = setTimeout(() => server.server.closeAllConnections(), left());
        await server.close().finally(() => clearTimeout(late));
        // Its close waits for the server's side of the connection to close, which a partitioned
        // or frozen PostgreSQL never does.
        if (changeListener) await bounded('the change listener', changeListener.close(), 2_000);
        await bounded('payments under way', payments.idle(), left());
        await bounded('closing the store', storage.close(), 10_000);
      })();
      return closing;
    },
  };
}

/**
 * A dashboard action goes through the payment's own dialect service: an executions payment's
 * capture is that execution's capture (its view, history and webhooks follow); a /v1 payment's
 * goes to the engine as the /v1 back office would send it. The engine's checks apply either way.
 */
function dashboardDialectAllows(executions: ExecutionService): DialectAllows {
  return async (payment, kind) => {
    if (payment.channel !== 'executions') return true;
    const e = await executions.byPayment(payment.id);
    return e !== undefined && executions.allows(e, kind === 'void' ? 'cancel' : kind);
  };
}

function dashboardAction(deps: { merchants: MerchantService; payments: PaymentService; executions: ExecutionService }): PaymentAction {
  return async ({ payment, kind, amount, join }) => {
    const merchant = await deps.merchants.byId(payment.merchantId);
    if (!merchant) return fail('not_found');
    if (payment.channel === 'executions') {
      const e = await deps.executions.byPayment(payment.id);
      if (!e) return fail('not_found');
      const acknowledge = join;
      // A void releases the open authorization and nothing else, as its confirmation says: the
      // execution's cancel, told so, is refused under the payment's lock once anything is captured
      // (it would refund it).
      const r = kind === 'capture' ? await deps.executions.capture(merchant, e.workflowCode, e.id, { amount, final: false, acknowledge })
        : kind === 'refund' ? await deps.executions.refund(merchant, e.workflowCode, e.id, { amount, acknowledge })
        : await deps.executions.cancel(merchant, e.workflowCode, e.id, { voidOnly: true, acknowledge });
      if (r.ok) return ok(undefined);
      const why = 'why' in r && r.why && typeof r.why === 'object' && 'reason' in r.why ? String(r.why.reason) : undefined;
      return fail(why ?? r.error);
    }
    if (!payment.entityId) return fail('not_found');
    const r = await deps.payments.followUp({
      merchant, scope: { channel: 'opp', entityId: payment.entityId }, kind, referencedId: payment.id, amount,
      merchantTransactionId: undefined, context: {}, testParameters: {}, join,
    });
    return r.ok ? ok(undefined) : fail(r.error);
  };
}

/**
 * Counts each operation's outcome once its unit of work commits (a rolled-back change never
 * happened). Only outcomes: recording an operation or resuming it is not counted, and an unknown
 * outcome the reconciler settles later counts again under its final status.
 */
function outcomeCounter(uow: UnitOfWork, metrics: Metrics): PaymentObserver {
  const counted = new Set(['succeeded', 'failed', 'unknown']);
  return {
    async paymentChanged(tx, change) {
      const o = change.operation;
      if (!counted.has(o.status)) return;
      const last = attemptsOfOperation(change.attempts, o.id).at(-1);
      const labels = { channel: change.payment.channel, kind: o.kind, status: o.status, reason: o.reason ?? '', account: last?.accountId ?? 'none' };
      uow.afterCommit(tx, () => metrics.paymentOutcome(labels));
    },
  };
}

/**
 * Every connector as the engine sees it. Each call is timed: the engine bounds a call by the PSP
 * timeout and records it unknown; a call still running then is counted as `timeout` at that bound,
 * and its late answer is not counted. Card numbers are masked in what the PSP says in free text
 * (kept, answered and sent on), whichever connector it is.
 */
function timedConnector(c: Connector, metrics: Metrics, pspTimeoutMs: number): Connector {
  const timeoutMs = c.timeoutMs ?? pspTimeoutMs;
  const clean = <O extends Outcome>(o: O): O => withoutControlCharacters(withoutCardNumbers(o, scrubPans));
  // The reconciler's lookups and the finish of a PSP's own 3-D Secure are calls to the PSP too: a
  // slow or failing status API shows in the same histogram (`not_found`: the PSP knows no such attempt).
  const timed = async <T extends Outcome | undefined>(call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const found = await call();
      metrics.pspCall(c.name, found ? found.kind : 'not_found', (performance.now() - started) / 1000);
      return found;
    } catch (err) {
      if (!(err instanceof NoStatusApi)) metrics.pspCall(c.name, 'error', (performance.now() - started) / 1000);
      throw err;
    }
  };
  return {
    name: c.name,
    operations: c.operations,
    timeoutMs,
    ...(c.simulated ? { simulated: true } : {}),
    ...(c.runsThreeDs ? { runsThreeDs: true } : {}),
    ...(c.lookupLagMs !== undefined ? { lookupLagMs: c.lookupLagMs } : {}),
    ...(c.dedupesByKey ? { dedupesByKey: true } : {}),
    ...(c.statusApi === false ? { statusApi: false } : {}),
    ...(c.pendingFollowUpsLast ? { pendingFollowUpsLast: c.pendingFollowUpsLast } : {}),
    lookup: async (attemptId, hint) => {
      const found = await timed(() => c.lookup(attemptId, hint));
      return found && clean(found);
    },
    ...(c.inbound ? {
      inbound: async (notification: InboundNotification) => {
        const r = await c.inbound!(notification);
        return { ...r, settled: r.settled.map((s) => ({ ...s, outcome: clean(s.outcome) })) };
      },
    } : {}),
    ...(c.complete ? { complete: async (back: ShopperReturn) => clean(await timed(() => c.complete!(back))) } : {}),
    ...(c.returnNames ? { returnNames: (back: ShopperReturn) => c.returnNames!(back) } : {}),
    execute(request) {
      const started = performance.now();
      let done = false;
      const record = (outcome: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        metrics.pspCall(c.name, outcome, (performance.now() - started) / 1000);
      };
      const timer = setTimeout(() => record('timeout'), timeoutMs);
      timer.unref();
      return c.execute(request).then(
        (outcome) => { record(outcome.kind); return clean(outcome); },
        (err: unknown) => { record('error'); throw err; },
      );
    },
  };
}
