import type { Config } from './config.ts';
import { openStorage, type Storage } from './storage/database.ts';
import { systemClock, type Clock } from './runtime/clock.ts';
import { randomIds, type Ids } from './runtime/ids.ts';
import { createLogger, type Logger } from './runtime/logger.ts';
import { createMerchantStore } from './merchants/kysely-store.ts';
import { createMerchantService, type MerchantService } from './merchants/service.ts';
import { createVaultStore } from './vault/kysely-store.ts';
import { createVaultService, type VaultService } from './vault/service.ts';
import { loadMasterKey } from './vault/keyring.ts';
import { createPaymentStore } from './payments/kysely-store.ts';
import { createPaymentService, type PaymentService } from './payments/service.ts';
import { createChallengeStore } from './threeds/kysely-store.ts';
import { createThreeDsService, type ThreeDsService } from './threeds/service.ts';
import { createCvvCache } from './vault/cvv-cache.ts';
import { createSimulatedAcquirer } from './processors/simulator.ts';
import type { Processor } from './processors/port.ts';
import { createThrottleStore } from './throttle/kysely-store.ts';
import { createThrottle } from './throttle/service.ts';
import { buildServer } from './http/server.ts';
import { buildNumberOf } from './dialects/opp/envelope.ts';
import { shopperResultUrlOf } from './dialects/opp/render.ts';
import type { FastifyInstance } from 'fastify';
import { deriveKey } from './vault/crypto.ts';
import { createInstrumentStore, createTokenizationKeyStore } from './vault/kysely-store.ts';
import { createTokenizationKeys } from './vault/tokenization.ts';
import { createRegistrationService } from './vault/registrations.ts';
import { createInstrumentService } from './vault/instruments.ts';
import { createAccessTokens } from './merchants/tokens.ts';
import { createAccountRouter, type AccountRouter } from './processors/accounts.ts';
import { createCascade } from './payments/cascade.ts';
import { createCascadeStore } from './payments/cascade-kysely-store.ts';
import { createWorkflowStore } from './workflows/kysely-store.ts';
import { createWorkflowService, type WorkflowService } from './workflows/service.ts';
import { createExecutionStore, executionChannel } from './executions/kysely-store.ts';
import { createExecutionService, type ExecutionService } from './executions/service.ts';
import { createExecutionsThreeDs } from './executions/threeds-gate.ts';
import { createWaiters, listenForChanges, type ChangeListener, type Waiters } from './executions/waiters.ts';
import { createIdempotencyStore } from './idempotency/kysely-store.ts';
import { createIdempotency, type Idempotency } from './idempotency/service.ts';
import { renderEvent } from './dialects/executions/render.ts';
import { createAddressPolicy } from './webhooks/address.ts';
import { createSender, type Sender } from './webhooks/sender.ts';
import { createWebhookStore } from './webhooks/kysely-store.ts';
import { createWebhookService, type WebhookService } from './webhooks/service.ts';
import { createOppNotificationRenderer } from './dialects/opp/notification.ts';
import { loadAdminToken } from './admin/token.ts';
import { createCardDataScreen } from './vault/free-text.ts';

export const version = '0.1.0';

export interface App {
  readonly config: Config;
  readonly storage: Storage;
  readonly merchants: MerchantService;
  readonly payments: PaymentService;
  readonly threeds: ThreeDsService;
  readonly vault: VaultService;
  readonly processor: Processor;
  readonly server: FastifyInstance;
  readonly logger: Logger;
  readonly workflows: WorkflowService;
  readonly executions: ExecutionService;
  readonly idempotency: Idempotency;
  /** The processor in front of the merchants' PSP accounts (its `calls` show what each account received). */
  readonly accounts: AccountRouter;
  readonly waiters: Waiters;
  /** PostgreSQL only: the LISTEN connection that wakes long-polls for changes made on other nodes. */
  readonly changeListener: ChangeListener | undefined;
  readonly webhooks: WebhookService;
  /** The operator token for /admin and /admin/api. */
  readonly admin: { readonly token: string };
  close(): Promise<void>;
}

export interface AppOverrides {
  clock?: Clock;
  ids?: Ids;
  logger?: Logger;
  processor?: Processor;
  /** Where the gateway's `/demo` redirects (the demo storefront `main.ts` starts on its own origin). */
  demoUrl?: string;
  /** The webhook HTTP client (tests may wrap it). */
  sender?: Sender;
}

/** Composition root: config → storage → services → HTTP server (+ the webhook worker, started by main). Nothing else builds things. */
export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const clock = overrides.clock ?? systemClock;
  const ids = overrides.ids ?? randomIds;
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const storage = await openStorage(config.storage);
  const locking = storage.kind === 'postgres';
  const masterKey = loadMasterKey({ configured: config.masterKey, dataDir: config.dataDir });
  const merchants = createMerchantService({ store: createMerchantStore(storage.db), clock, ids });
  const vault = await createVaultService({ store: createVaultStore(storage.db), clock, ids, masterKey });
  const processor = overrides.processor ?? createSimulatedAcquirer(config.simulator);
  const workflows = createWorkflowService({ store: createWorkflowStore(storage.db), clock, ids });
  // Requests naming a merchant's PSP account go to that (simulated) account; the rest to the default acquirer.
  const accounts = createAccountRouter({ fallback: processor, behaviourOf: (id) => workflows.behaviourOf(id) });
  const threeds = createThreeDsService({ store: createChallengeStore(storage.db), clock, ids });
  // One in-memory CVV holder for /v1 payments awaiting 3-D Secure and for instruments' first authorization.
  const cvvs = createCvvCache(clock);
  const payments = createPaymentService({
    store: createPaymentStore(storage.db, { locking }), vault, processor: accounts, threeds, cvvs, clock, ids, logger,
    pspTimeoutMs: config.pspTimeoutMs, asyncTimeoutMs: config.asyncTimeoutMs, bankReceiptDelayMs: config.bankReceiptDelayMs,
  });
  // A finished hosted page of a /v1 payment runs the payment on and sends the shopper to the merchant.
  threeds.onOutcome('payment', async (challenge, outcome) => {
    const v = await payments.completeAuthentication(challenge.subject.id, outcome);
    return shopperResultUrlOf(v.transaction);
  });
  const instrumentStore = createInstrumentStore(storage.db);
  const instruments = createInstrumentService({
    store: instrumentStore, vault, clock, cvvs, ephemeralTtlMs: config.ephemeralInstrumentTtlMs,
  });
  const tokenizationKeys = createTokenizationKeys({
    store: createTokenizationKeyStore(storage.db), sealingKey: deriveKey(masterKey, 'tokenization-keys'), clock,
  });
  const registrations = createRegistrationService({ store: instrumentStore, vault, clock, ids });
  const cascade = createCascade({ payments, store: createCascadeStore(storage.db), ids, clock });
  const waiters = createWaiters();
  const executionsThreeDs = createExecutionsThreeDs({
    threeds, vault, clock, challengeTtlMs: config.asyncTimeoutMs, publicUrl: config.publicUrl,
  });
  const executions = createExecutionService({
    store: createExecutionStore(storage.db, { postgres: locking }), merchants, payments, cascade, workflows, instruments,
    waiters, clock, ids, logger, renderEvent, threeds: executionsThreeDs.gate,
    // As the engine's reconciler: after twice the PSP timeout nobody is still waiting for an answer.
    resumeAfterMs: Math.min(30_000, 2 * config.pspTimeoutMs),
  });
  executionsThreeDs.register(executions);
  const changeListener = config.storage.kind === 'postgres'
    // LISTEN/NOTIFY is database-wide, so a test schema needs no say in it.
    ? listenForChanges({ url: config.storage.url, channel: executionChannel, waiters, logger })
    : undefined;
  const idempotency = createIdempotency({ store: createIdempotencyStore(storage.db), clock });
  const tokens = createAccessTokens({ key: deriveKey(masterKey, 'access-tokens'), clock });
  const adminToken = loadAdminToken({ configured: config.adminToken, dataDir: config.dataDir });
  const throttle = createThrottle({ store: createThrottleStore(storage.db, { locking }), clock });
  const buildNumber = buildNumberOf(version, clock.now());
  // Card numbers typed into non-card fields are masked under a key of their own (docs/compatibility.md).
  const cardData = createCardDataScreen(deriveKey(masterKey, 'free-text-card-numbers'));
  const policy = createAddressPolicy(config.webhooks.allow);
  const webhooks = createWebhookService({
    store: createWebhookStore(storage.db, { locking }), merchants, clock, ids, logger,
    sealingKey: deriveKey(masterKey, 'webhook-secrets'), policy, sender: overrides.sender ?? createSender(policy),
    opp: createOppNotificationRenderer({ merchants, payments, buildNumber }), settings: config.webhooks,
  });
  const server = await buildServer({
    logger, timeouts: config.http,
    opp: {
      merchants, payments, threeds, registrations, throttle, clock, publicUrl: config.publicUrl,
      buildNumber, statusLimit: { calls: 2, windowMs: 60_000 }, cardData,
    },
    hosted: { threeds, clock },
    executions: {
      merchants, tokens, executions, instruments, idempotency, longPollMs: config.longPollMs, publicUrl: config.publicUrl, cardData,
      browser: { tokenizationKeys, throttle, clock, tokenizeLimit: { calls: 30, windowMs: 60_000 } },
    },
    admin: { merchants, workflows, adminToken },
    webhookAdmin: { webhooks, token: adminToken },
    sdk: { merchants, demoUrl: overrides.demoUrl },
  });
  return {
    config, storage, merchants, payments, threeds, vault, processor, server, logger, workflows, executions, idempotency, accounts, waiters, changeListener,
    webhooks, admin: { token: adminToken },
    async close() {
      await webhooks.stop();
      await server.close();
      await changeListener?.close();
      await executions.idle();
      await storage.close();
    },
  };
}
