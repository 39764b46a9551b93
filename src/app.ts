import type { Config } from './config.ts';
import { openStorage, type Storage } from './storage/database.ts';
import { systemClock, type Clock } from './runtime/clock.ts';
import { randomIds, type Ids } from './runtime/ids.ts';
import { createLogger, type Logger } from './runtime/logger.ts';
import { createMerchantStore } from './merchants/kysely-store.ts';
import { createMerchantService, type MerchantService } from './merchants/service.ts';
import { createVaultStore } from './vault/kysely-store.ts';
import { createVaultService } from './vault/service.ts';
import { loadMasterKey } from './vault/keyring.ts';
import { createPaymentStore } from './payments/kysely-store.ts';
import { createPaymentService, type PaymentService } from './payments/service.ts';
import { createSimulatedAcquirer } from './processors/simulator.ts';
import type { Processor } from './processors/port.ts';
import { createThrottleStore } from './throttle/kysely-store.ts';
import { createThrottle } from './throttle/service.ts';
import { buildServer } from './http/server.ts';
import { buildNumberOf } from './dialects/opp/envelope.ts';
import type { FastifyInstance } from 'fastify';
import { deriveKey } from './vault/crypto.ts';
import { createAddressPolicy } from './webhooks/address.ts';
import { createSender, type Sender } from './webhooks/sender.ts';
import { createWebhookStore } from './webhooks/kysely-store.ts';
import { createWebhookService, type WebhookService } from './webhooks/service.ts';
import { createOppNotificationRenderer } from './dialects/opp/notification.ts';
import { loadAdminToken } from './admin/token.ts';

export const version = '0.1.0';

export interface App {
  readonly config: Config;
  readonly storage: Storage;
  readonly merchants: MerchantService;
  readonly payments: PaymentService;
  readonly processor: Processor;
  readonly server: FastifyInstance;
  readonly logger: Logger;
  readonly webhooks: WebhookService;
  /** The operator token for /admin/api; `created` when it was generated on this start. */
  readonly admin: { readonly token: string; readonly created: boolean };
  close(): Promise<void>;
}

export interface AppOverrides {
  clock?: Clock;
  ids?: Ids;
  logger?: Logger;
  processor?: Processor;
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
  const payments = createPaymentService({
    store: createPaymentStore(storage.db, { locking }), vault, processor, clock, ids, logger, pspTimeoutMs: config.pspTimeoutMs,
  });
  const throttle = createThrottle({ store: createThrottleStore(storage.db, { locking }), clock });
  const buildNumber = buildNumberOf(version, clock.now());
  const policy = createAddressPolicy(config.webhooks.allow);
  const webhooks = createWebhookService({
    store: createWebhookStore(storage.db, { locking }), merchants, clock, ids, logger,
    sealingKey: deriveKey(masterKey, 'webhook-secrets'), policy, sender: overrides.sender ?? createSender(policy),
    opp: createOppNotificationRenderer({ merchants, payments, buildNumber }), settings: config.webhooks,
  });
  const admin = loadAdminToken({ configured: config.adminToken, dataDir: config.dataDir });
  const server = await buildServer({
    logger,
    opp: { merchants, payments, throttle, clock, buildNumber, statusLimit: { calls: 2, windowMs: 60_000 } },
    admin: { webhooks, token: admin.token },
  });
  return {
    config, storage, merchants, payments, processor, server, logger, webhooks, admin,
    async close() {
      await webhooks.stop();
      await server.close();
      await storage.close();
    },
  };
}
