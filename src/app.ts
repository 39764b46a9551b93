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
  close(): Promise<void>;
}

export interface AppOverrides {
  clock?: Clock;
  ids?: Ids;
  logger?: Logger;
  processor?: Processor;
}

/** Composition root: config → storage → services → HTTP server. Nothing else builds things. */
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
  const threeds = createThreeDsService({ store: createChallengeStore(storage.db), clock, ids });
  const payments = createPaymentService({
    store: createPaymentStore(storage.db, { locking }), vault, processor, threeds, cvvs: createCvvCache(clock), clock, ids, logger,
    pspTimeoutMs: config.pspTimeoutMs, asyncTimeoutMs: config.asyncTimeoutMs, bankReceiptDelayMs: config.bankReceiptDelayMs,
  });
  // A finished hosted page of a /v1 payment runs the payment on and sends the shopper to the merchant.
  threeds.onOutcome('payment', async (challenge, outcome) => {
    const v = await payments.completeAuthentication(challenge.subject.id, outcome);
    return shopperResultUrlOf(v.transaction);
  });
  const throttle = createThrottle({ store: createThrottleStore(storage.db, { locking }), clock });
  const server = await buildServer({
    logger,
    opp: {
      merchants, payments, threeds, throttle, clock, publicUrl: config.publicUrl,
      buildNumber: buildNumberOf(version, clock.now()), statusLimit: { calls: 2, windowMs: 60_000 },
    },
    hosted: { threeds, clock },
  });
  return {
    config, storage, merchants, payments, threeds, vault, processor, server, logger,
    async close() {
      await server.close();
      await storage.close();
    },
  };
}
