import type { StorageTarget } from './storage/database.ts';
import { parseAllowList } from './webhooks/address.ts';

/** Behaviour of the simulated acquirer, so benchmarks and fault tests can model a real PSP. */
export interface SimulatorConfig {
  /** Mean added latency per PSP call, in ms. */
  readonly latencyMs: number;
  /** Random ± spread around the latency, in ms. */
  readonly jitterMs: number;
  /** Share (0..1) of calls that never answer (the gateway's PSP timeout decides them `unknown`). */
  readonly timeoutRate: number;
  /** Share (0..1) of calls that answer with a communication error. */
  readonly errorRate: number;
}

/** Webhook delivery (see src/webhooks/). */
export interface WebhookConfig {
  /** SWITCHYARD_WEBHOOK_ALLOW: CIDR ranges opened beside public addresses (e.g. `127.0.0.0/8,::1/128`). */
  readonly allow: string | undefined;
  /** An attempt without a complete answer in this time failed (the platform's 30 s). */
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** An endpoint failing without a success for this long is disabled. */
  readonly disableAfterMs: number;
  readonly batchSize: number;
}

/** Periodic jobs claimed in the database (see src/jobs/). */
export interface JobsConfig {
  /** A claim holds this long without renewal: a killed node's jobs wait at most this long for another node. */
  readonly leaseMs: number;
  /** The longest a node sleeps between looks at the jobs table. */
  readonly pollMs: number;
}

/**
 * Limits on how long a client may take to send its request, so that slow or stalled sockets
 * (slowloris, trickled bodies) cannot pile up. A long-poll is not affected: these count until the
 * request has arrived, not until the answer has been sent. 0 turns a limit off.
 */
export interface HttpTimeouts {
  /** SWITCHYARD_REQUEST_TIMEOUT_MS: the whole request (headers and body) must arrive within this. */
  readonly requestTimeoutMs: number;
  /** SWITCHYARD_HEADERS_TIMEOUT_MS: the request's headers must arrive within this (at most the request timeout). */
  readonly headersTimeoutMs: number;
  /** SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS: an idle kept-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly storage: StorageTarget;
  readonly dataDir: string;
  /** 64 hex characters; when absent a key is generated into the data folder on first start. */
  readonly masterKey: string | undefined;
  /** How long a PSP call may take before its outcome is `unknown`. */
  readonly pspTimeoutMs: number;
  readonly simulator: SimulatorConfig;
  /** An asynchronous payment nobody finishes ends this long after it started (decision 6: 30 min). */
  readonly asyncTimeoutMs: number;
  /** The simulated bank posts the receipt of a confirmed bank transfer after this long. */
  readonly bankReceiptDelayMs: number;
  /** A card authorization still open (uncaptured) this long after it was made expires: its rest is voided. */
  readonly authorizationExpiryMs: number;
  /** Per card brand: the built-in table (payments/model.ts) with SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND's overrides. */
  readonly authorizationExpiryByBrandMs: Readonly<Record<string, number>>;
  /**
   * The gateway's address as shoppers' browsers reach it (redirect URLs). When unset, the address
   * the merchant's request came to is used.
   */
  readonly publicUrl: string | undefined;
  /** How often a server reloads its key ring, so a rotation made elsewhere reaches it. */
  readonly keyRefreshMs: number;
  readonly logLevel: string;
  /** Where the demo merchant's credentials are written on first start (shell-sourcable). */
  readonly demoCredentialsFile: string;
  readonly webhooks: WebhookConfig;
  /** Longest hold of an executions `waitWhile` long-poll (decision 2; below the seed client's 30 s timeout). */
  readonly longPollMs: number;
  /** An ephemeral instrument (`storeInstrument: false`) ends this long after creation, or at its first use. */
  readonly ephemeralInstrumentTtlMs: number;
  /** Port of the demo storefront `npm start` runs beside the gateway (its own origin); 0 turns it off. */
  readonly demoPort: number;
  /** The operator's admin API token; when absent one is generated into the data folder. */
  readonly adminToken: string | undefined;
  /** When set, `/metrics` requires `Authorization: Bearer <it>`; unset, it is open (bind or firewall it). */
  readonly metricsToken: string | undefined;
  readonly jobs: JobsConfig;
  readonly http: HttpTimeouts;
}

/**
 * How long a card authorization holds, in days, for brands whose schemes let it hold longer than
 * the default (SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS, 7: what Visa and Mastercard allow a
 * card-not-present authorization): Discover 10, Cartes Bancaires 13, Diners, JCB and UnionPay 30.
 */
export const authorizationExpiryDaysByBrand: Readonly<Record<string, number>> = { DISCOVER: 10, CARTEBLEUE: 13, DINERS: 30, JCB: 30, UNIONPAY: 30 };

/** The built-in table with the operator's overrides, `BRAND=DAYS,BRAND=DAYS` (brands in the /v1 spelling). */
function expiryByBrand(text: string | undefined): Readonly<Record<string, number>> {
  const days: Record<string, number> = { ...authorizationExpiryDaysByBrand };
  for (const part of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Z_]+)=([0-9]+(?:\.[0-9]+)?)$/.exec(part);
    if (!m || Number(m[2]) <= 0) throw new Error(`SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "${part}" is not BRAND=DAYS (e.g. DINERS=30)`);
    days[m[1]!] = Number(m[2]);
  }
  return Object.freeze(Object.fromEntries(Object.entries(days).map(([b, d]) => [b, Math.round(d * 86_400_000)])));
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

/** Refuses to start on a malformed allow list rather than silently refusing (or opening) ranges. */
function checkedAllowList(text: string | undefined): string | undefined {
  parseAllowList(text);
  return text || undefined;
}

function publicUrlOf(v: string | undefined): string | undefined {
  if (!v) return undefined;
  let url: URL;
  try { url = new URL(v); } catch { throw new Error(`SWITCHYARD_PUBLIC_URL must be an absolute URL, got ${JSON.stringify(v)}`); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('SWITCHYARD_PUBLIC_URL must be http(s)');
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function httpTimeouts(env: NodeJS.ProcessEnv): HttpTimeouts {
  const requestTimeoutMs = num(env, 'SWITCHYARD_REQUEST_TIMEOUT_MS', 30_000);
  const headersTimeoutMs = num(env, 'SWITCHYARD_HEADERS_TIMEOUT_MS', Math.min(10_000, requestTimeoutMs || 10_000));
  // Node refuses a headers limit above the request limit; saying so here names the variables.
  if (requestTimeoutMs > 0 && (headersTimeoutMs === 0 || headersTimeoutMs > requestTimeoutMs)) {
    throw new Error(`SWITCHYARD_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must be between 1 and SWITCHYARD_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  // Above the 60 s idle timeout of common load balancers, so they never reuse a connection we just closed.
  const keepAliveTimeoutMs = num(env, 'SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS', 72_000);
  return Object.freeze({ requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs });
}

/** One typed, frozen configuration read from the environment, with working defaults. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = env.SWITCHYARD_DATA_DIR || './data';
  const storage: StorageTarget = env.DATABASE_URL
    ? { kind: 'postgres', url: env.DATABASE_URL }
    : { kind: 'sqlite', dataDir };
  const masterKey = env.SWITCHYARD_MASTER_KEY || undefined;
  if (masterKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(masterKey)) {
    throw new Error('SWITCHYARD_MASTER_KEY must be 64 hex characters (32 bytes)');
  }
  return Object.freeze({
    port: num(env, 'PORT', 8080),
    host: env.HOST || '127.0.0.1',
    storage,
    dataDir,
    masterKey,
    pspTimeoutMs: num(env, 'SWITCHYARD_PSP_TIMEOUT_MS', 10_000),
    simulator: Object.freeze({
      latencyMs: num(env, 'SWITCHYARD_SIM_LATENCY_MS', 0),
      jitterMs: num(env, 'SWITCHYARD_SIM_JITTER_MS', 0),
      timeoutRate: num(env, 'SWITCHYARD_SIM_TIMEOUT_RATE', 0),
      errorRate: num(env, 'SWITCHYARD_SIM_ERROR_RATE', 0),
    }),
    asyncTimeoutMs: num(env, 'SWITCHYARD_ASYNC_TIMEOUT_MS', 30 * 60_000),
    bankReceiptDelayMs: num(env, 'SWITCHYARD_BANK_RECEIPT_DELAY_MS', 60_000),
    authorizationExpiryMs: Math.round(num(env, 'SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS', 7) * 86_400_000),
    authorizationExpiryByBrandMs: expiryByBrand(env.SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND),
    publicUrl: publicUrlOf(env.SWITCHYARD_PUBLIC_URL),
    keyRefreshMs: Math.max(100, num(env, 'SWITCHYARD_KEY_REFRESH_MS', 5_000)),
    logLevel: env.LOG_LEVEL || 'info',
    demoCredentialsFile: env.SWITCHYARD_DEMO_FILE || `${dataDir}/demo-merchant.env`,
    webhooks: Object.freeze({
      allow: checkedAllowList(env.SWITCHYARD_WEBHOOK_ALLOW),
      timeoutMs: num(env, 'SWITCHYARD_WEBHOOK_TIMEOUT_MS', 30_000),
      pollMs: num(env, 'SWITCHYARD_WEBHOOK_POLL_MS', 500),
      disableAfterMs: num(env, 'SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS', 120) * 3_600_000,
      batchSize: Math.max(1, num(env, 'SWITCHYARD_WEBHOOK_BATCH', 32)),
    }),
    longPollMs: num(env, 'SWITCHYARD_LONG_POLL_MS', 25_000),
    ephemeralInstrumentTtlMs: num(env, 'SWITCHYARD_EPHEMERAL_INSTRUMENT_TTL_MS', 30 * 60_000),
    // Beside a fixed gateway port by default; a gateway on a random port (PORT=0) runs no demo unless asked.
    demoPort: num(env, 'SWITCHYARD_DEMO_PORT', num(env, 'PORT', 8080) === 0 ? 0 : num(env, 'PORT', 8080) + 1),
    adminToken: env.SWITCHYARD_ADMIN_TOKEN || undefined,
    metricsToken: env.SWITCHYARD_METRICS_TOKEN || undefined,
    jobs: Object.freeze({
      leaseMs: Math.max(100, num(env, 'SWITCHYARD_JOB_LEASE_MS', 30_000)),
      pollMs: Math.max(10, num(env, 'SWITCHYARD_JOB_POLL_MS', 1000)),
    }),
    http: httpTimeouts(env),
  });
}
