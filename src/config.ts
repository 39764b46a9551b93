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
  /** PSP accounts' circuit breakers: failures in a row that open one, and how long it stays open. */
  readonly breaker: { readonly failureThreshold: number; readonly openMs: number };
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

/** The kinds of value a setting takes; each has one parser and one sentence for the reference. */
export const settingTypes = ['integer', 'number', 'rate', 'string', 'url', 'hex-key', 'cidr-list', 'log-level', 'postgres-url', 'on-off'] as const;
export type SettingType = (typeof settingTypes)[number];

/**
 * One environment variable the gateway reads: the single source of its name, type, default, unit
 * and meaning. `loadConfig` reads through this table and docs/configuration.md is generated from it
 * (`node scripts/configuration-doc.ts`), so the reference cannot miss or misstate a setting.
 */
export interface Setting {
  readonly name: string;
  readonly type: SettingType;
  /** The value used when the variable is unset or empty; undefined: none (the feature is off, or something is generated). */
  readonly default: number | string | undefined;
  /** What the default means when it is not a plain value (e.g. "PORT + 1"). */
  readonly defaultText?: string;
  readonly unit?: 'ms' | 'hours' | 'days' | 'share 0..1' | 'rows';
  /** The smallest value accepted (numbers). */
  readonly min?: number;
  /** A duration only ever compared with timestamps, never waited on by a timer: not held to a timer's longest wait. */
  readonly compared?: true;
  readonly group: string;
  readonly description: string;
}

const ms = 'ms' as const;
const longestTimerMs = 0x7fff_ffff;
/**
 * The longest duration compared with stored times rather than waited for by a timer (ten years):
 * beyond any real timeout, and well within what a time plus it can be stored as (a larger one made
 * every 3-D Secure payment's expiry overflow PostgreSQL's bigint).
 */
const longestComparedMs = 10 * 365 * 86_400_000;

export const settings: readonly Setting[] = [
  { group: 'Server', name: 'PORT', type: 'integer', default: 8080, min: 0, description: 'TCP port the gateway listens on; 0 picks a free port (and turns the demo storefront off unless SWITCHYARD_DEMO_PORT is set).' },
  { group: 'Server', name: 'HOST', type: 'string', default: '127.0.0.1', description: 'Interface to listen on; `0.0.0.0` for every interface.' },
  { group: 'Server', name: 'SWITCHYARD_PUBLIC_URL', type: 'url', default: undefined, defaultText: 'the address each request came to', description: 'The gateway\'s address as shoppers\' browsers reach it, used in redirect URLs (behind a proxy or load balancer): scheme, host and port, with no path (the gateway is served from the root of its address). The dashboard takes its forms\' posts from it whatever host the proxy passes on.' },
  { group: 'Server', name: 'LOG_LEVEL', type: 'log-level', default: 'info', description: 'Lowest level written to stdout as JSON lines: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.' },
  { group: 'Server', name: 'SWITCHYARD_REQUEST_TIMEOUT_MS', type: 'integer', unit: ms, default: 30_000, min: 0, description: 'A client must have sent its whole request (headers and body) within this; 0 turns the limit off. A long-poll is not affected.' },
  { group: 'Server', name: 'SWITCHYARD_HEADERS_TIMEOUT_MS', type: 'integer', unit: ms, default: 10_000, defaultText: '10000, at most SWITCHYARD_REQUEST_TIMEOUT_MS', min: 0, description: 'A client must have sent its request headers within this (at most the request timeout).' },
  { group: 'Server', name: 'SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS', type: 'integer', unit: ms, default: 72_000, min: 0, description: 'An idle kept-alive connection is closed after this (above the 60 s idle timeout of common load balancers).' },
  { group: 'Storage and keys', name: 'SWITCHYARD_DATA_DIR', type: 'string', default: './data', description: 'Folder of the embedded SQLite store and of generated files (master key, operator token, demo credentials).' },
  { group: 'Storage and keys', name: 'DATABASE_URL', type: 'postgres-url', default: undefined, defaultText: 'the embedded SQLite store', description: 'A PostgreSQL connection URL (`postgres://user@host:5432/db`); when set, the gateway uses PostgreSQL instead of SQLite.' },
  { group: 'Storage and keys', name: 'SWITCHYARD_PG_PREPARED_STATEMENTS', type: 'on-off', default: 'on', description: 'PostgreSQL only: each connection keeps the hot path\'s statements prepared (parsed and planned once). Set `off` behind a connection pooler in transaction mode that does not carry prepared statements (PgBouncer before 1.21, or without `max_prepared_statements`).' },
  { group: 'Storage and keys', name: 'SWITCHYARD_PG_STATEMENT_DEADLINE_MS', type: 'integer', unit: ms, default: 30_000, min: 0, description: 'PostgreSQL only: a statement the database leaves unanswered this long, and that the server (asked over another connection) cannot say it is still running or waiting for a lock, closes its connection: a frozen or unreachable server fails the units of work on it instead of holding them and their requests for as long as TCP retries. 0 turns it off. Schema migrations at start are not held to it. The server also ends a session left idle inside a transaction this long (at least 5 s; SWITCHYARD_UNIT_DEADLINE_MS when this is 0), so a node cut off mid-transaction does not keep its locks.' },
  { group: 'Storage and keys', name: 'SWITCHYARD_UNIT_DEADLINE_MS', type: 'integer', unit: ms, default: 60_000, min: 0, description: 'A unit of work (the few statements of one state change; never a PSP call) still running this long is given up: it fails, its writes are rolled back and anything it sends later is refused, so a unit awaiting something that never comes cannot hold SQLite\'s one writer, or a PostgreSQL connection, for ever. Above SWITCHYARD_PG_STATEMENT_DEADLINE_MS, so a slow statement is judged by that first. 0 turns it off.' },
  { group: 'Storage and keys', name: 'SWITCHYARD_MASTER_KEY', type: 'hex-key', default: undefined, defaultText: 'generated into SWITCHYARD_DATA_DIR/master.key on first start', description: 'The master key (64 hex characters) that seals the key-encrypting keys of stored cards. It must stay the key the store was created with.' },
  { group: 'Storage and keys', name: 'SWITCHYARD_KEY_REFRESH_MS', type: 'integer', unit: ms, default: 5_000, min: 100, description: 'How often a server reloads its key ring, so that a key rotation made by the CLI or another node reaches it.' },
  { group: 'Operator access', name: 'SWITCHYARD_ADMIN_TOKEN', type: 'string', default: undefined, defaultText: 'generated into SWITCHYARD_DATA_DIR/admin.token', description: 'Bearer token of the operator API (every `/admin/...` route: merchants, PSP accounts, webhooks, ledger), at least 24 characters, no spaces; the dashboard signs in with users of its own.' },
  { group: 'Operator access', name: 'SWITCHYARD_METRICS_TOKEN', type: 'string', default: undefined, defaultText: 'none: `/metrics` is open', description: 'When set (at least 24 characters, no spaces), `/metrics` requires `Authorization: Bearer <token>`.' },
  { group: 'Payments', name: 'SWITCHYARD_PSP_TIMEOUT_MS', type: 'integer', unit: ms, default: 10_000, min: 100, description: 'A PSP call without an answer within this leaves its attempt `unknown` (the reconciler settles it later).' },
  { group: 'Payments', name: 'SWITCHYARD_BREAKER_FAILURES', type: 'integer', default: 5, min: 1, description: 'A PSP account whose calls fail (provider errors, timeouts) this many times in a row is taken out of the cascade (its circuit opens).' },
  { group: 'Payments', name: 'SWITCHYARD_BREAKER_OPEN_MS', type: 'integer', unit: ms, default: 30_000, min: 1000, description: 'How long an open circuit keeps its PSP account out of the cascade before one trial call is let through (half-open).' },
  { group: 'Payments', name: 'SWITCHYARD_ASYNC_TIMEOUT_MS', type: 'integer', unit: ms, compared: true, default: 30 * 60_000, min: 100, description: 'An asynchronous payment (3-D Secure, bank transfer) nobody finishes ends this long after it started. There is no "off": 0 would end each at once.' },
  { group: 'Payments', name: 'SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS', type: 'number', unit: 'days', default: 7, min: 1, description: 'A card authorization still uncaptured this long after it was made expires: its rest is voided. At least 1: expiry cannot be turned off, since a scheme releases the hold anyway.' },
  { group: 'Payments', name: 'SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND', type: 'string', default: undefined, defaultText: 'DISCOVER=10,CARTEBLEUE=13,DINERS=30,JCB=30,UNIONPAY=30', description: 'Per-brand exceptions to SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS as `BRAND=DAYS,…` (brands in the /v1 spelling); added to or replacing the built-in ones.' },
  { group: 'Payments', name: 'SWITCHYARD_BANK_RECEIPT_DELAY_MS', type: 'integer', unit: ms, compared: true, default: 60_000, min: 0, description: 'The simulated bank posts the receipt of a confirmed bank transfer after this long.' },
  { group: 'Payments', name: 'SWITCHYARD_LONG_POLL_MS', type: 'integer', unit: ms, default: 25_000, min: 0, description: 'Longest hold of an executions `waitWhile` long-poll (below the usual 30 s client timeout).' },
  { group: 'Payments', name: 'SWITCHYARD_EPHEMERAL_INSTRUMENT_TTL_MS', type: 'integer', unit: ms, compared: true, default: 30 * 60_000, min: 100, description: 'An ephemeral instrument (`storeInstrument: false`) ends this long after creation, or at its first use. There is no "off": 0 would end each at once.' },
  { group: 'Simulated acquirer', name: 'SWITCHYARD_SIM_LATENCY_MS', type: 'integer', unit: ms, default: 0, min: 0, description: 'Mean latency the simulated acquirer adds to each call.' },
  { group: 'Simulated acquirer', name: 'SWITCHYARD_SIM_JITTER_MS', type: 'integer', unit: ms, default: 0, min: 0, description: 'Random spread (±) around that latency.' },
  { group: 'Simulated acquirer', name: 'SWITCHYARD_SIM_TIMEOUT_RATE', type: 'rate', unit: 'share 0..1', default: 0, description: 'Share of simulated calls that never answer (their attempts end `unknown`).' },
  { group: 'Simulated acquirer', name: 'SWITCHYARD_SIM_ERROR_RATE', type: 'rate', unit: 'share 0..1', default: 0, description: 'Share of simulated calls that answer with a communication error.' },
  { group: 'Webhooks', name: 'SWITCHYARD_WEBHOOK_ALLOW', type: 'cidr-list', default: undefined, defaultText: 'none: public addresses only', description: 'Comma-separated CIDR ranges opened beside public addresses for webhook endpoints, e.g. `127.0.0.0/8,::1/128` for receivers on this machine.' },
  { group: 'Webhooks', name: 'SWITCHYARD_WEBHOOK_TIMEOUT_MS', type: 'integer', unit: ms, default: 30_000, min: 100, description: 'A delivery attempt without a complete answer within this failed.' },
  { group: 'Webhooks', name: 'SWITCHYARD_WEBHOOK_POLL_MS', type: 'integer', unit: ms, default: 500, min: 10, description: 'How often the delivery worker looks for new events and due retries.' },
  { group: 'Webhooks', name: 'SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS', type: 'number', unit: 'hours', default: 120, min: 0, description: 'An endpoint failing without a single success for this long is disabled.' },
  { group: 'Webhooks', name: 'SWITCHYARD_WEBHOOK_RETENTION_DAYS', type: 'number', unit: 'days', default: 30, min: 0, description: 'Deliveries last tried longer ago than this (delivered, or failed for good) are deleted with their attempts and their events, whose bodies hold the shopper\'s details; their webhooks leave the payment\'s page and can no longer be sent again. Pending ones are kept, however old. 0 keeps them all.' },
  { group: 'Webhooks', name: 'SWITCHYARD_WEBHOOK_BATCH', type: 'integer', unit: 'rows', default: 32, min: 1, description: 'Delivery attempts in flight at once per node (while others wait, one endpoint gets half of them, two while it is failing).' },
  { group: 'Jobs', name: 'SWITCHYARD_JOB_LEASE_MS', type: 'integer', unit: ms, default: 30_000, min: 100, description: 'A periodic job\'s claim lasts this long without renewal: a killed node\'s jobs wait at most this long for another node.' },
  { group: 'Jobs', name: 'SWITCHYARD_JOB_POLL_MS', type: 'integer', unit: ms, default: 1_000, min: 10, description: 'The longest a node sleeps between looks at the jobs table.' },
  { group: 'Demo', name: 'SWITCHYARD_DEMO_PORT', type: 'integer', default: undefined, defaultText: 'PORT + 1 (none when PORT is 0 or 65535)', min: 0, description: 'Port of the demo storefront `npm start` runs beside the gateway; 0 turns it off.' },
  { group: 'Demo', name: 'SWITCHYARD_DEMO_FILE', type: 'string', default: undefined, defaultText: 'SWITCHYARD_DATA_DIR/demo-merchant.env', description: 'Where the demo merchant\'s credentials are written on first start (a shell file to `source`).' },
];

/** A setting with a value the gateway cannot use: the message names the variable, the value and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const byName = new Map(settings.map((s) => [s.name, s]));

function settingOf(name: string): Setting {
  const s = byName.get(name);
  // A bug, not an operator's mistake: every variable read must be in the table (and so in the reference).
  if (!s) throw new Error(`${name} is read but not declared in src/config.ts settings`);
  return s;
}

const expectation = (s: Setting): string => {
  const unit = s.unit === undefined ? '' : s.unit === 'share 0..1' ? '' : ` (${s.unit})`;
  switch (s.type) {
    case 'integer': return `a whole number ≥ ${s.min ?? 0}${unit}`;
    case 'number': return `a number ≥ ${s.min ?? 0}${unit}`;
    case 'rate': return 'a share between 0 and 1, e.g. 0.05';
    case 'url': return 'an absolute http(s) URL';
    case 'hex-key': return '64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`';
    case 'cidr-list': return 'comma-separated IP addresses or CIDR ranges, e.g. 127.0.0.0/8,::1/128';
    case 'log-level': return `one of ${logLevels.join(', ')}`;
    case 'postgres-url': return 'a postgres:// or postgresql:// URL';
    case 'on-off': return '`on` or `off`';
    case 'string': return 'text';
  }
};

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Fewer characters than this, a token could be guessed by trying: the API it opens takes any number of tries. */
const minTokenLength = 24;

/** A bearer token the operator chose, refused when short; its value is never echoed. */
function bearerToken(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const token = text(env, name);
  if (token !== undefined && token.length < minTokenLength) {
    throw new ConfigError(`${name} is too short (${token.length} characters): give at least ${minTokenLength}, e.g. the output of \`openssl rand -hex 24\`. ${settingOf(name).description}`);
  }
  // An Authorization header carries a token as one word: one with spaces could never be presented.
  if (token !== undefined && /[\s\p{Cc}]/u.test(token)) {
    throw new ConfigError(`${name} holds a space or a control character: give one word of visible characters, e.g. the output of \`openssl rand -hex 24\`. ${settingOf(name).description}`);
  }
  return token;
}

function invalid(s: Setting, value: string, why?: string): ConfigError {
  return new ConfigError(`${s.name}=${JSON.stringify(value)} is not valid: ${why ?? `expected ${expectation(s)}`}. ${s.description}`);
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
    if (!m || Number(m[2]) <= 0) throw new ConfigError(`SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "${part}" is not BRAND=DAYS (e.g. DINERS=30)`);
    // No brand's authorizations expire sooner than SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS may make all of them.
    const least = settingOf('SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS').min ?? 1;
    if (Number(m[2]) < least) throw new ConfigError(`SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "${part}" is less than ${least} day (the least SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS takes)`);
    // Added to stored times as the brand's expiry, as SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS is: held to the same ten years.
    if (Number(m[2]) * 86_400_000 > longestComparedMs) throw new ConfigError(`SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND: "${part}" is more than 3650 days (ten years)`);
    days[m[1]!] = Number(m[2]);
  }
  return Object.freeze(Object.fromEntries(Object.entries(days).map(([b, d]) => [b, Math.round(d * 86_400_000)])));
}

/** Names the project's own scripts and files use besides the settings (none read here): never taken for a misspelling. */
export const namesBesideSettings: ReadonlySet<string> = new Set([
  // The launcher's (scripts/launch.mjs), the demo merchant's file's, and the tests' vendor documents.
  'SWITCHYARD_NODE', 'SWITCHYARD_NODE_CACHE', 'SWITCHYARD_NODE_DOWNLOAD', 'SWITCHYARD_URL', 'SWITCHYARD_VENDOR_DIR',
]);

/**
 * The `SWITCHYARD_` variables set that are no setting (each misspelt one leaves its setting at the
 * default without a word: a master key given as SWITCHYARD_MASTERKEY had the gateway make a key of
 * its own), each with the setting it is closest to, when one is.
 */
export function unknownSettings(env: NodeJS.ProcessEnv = process.env): { name: string; meant: string | undefined }[] {
  const known = settings.map((x) => x.name);
  // Variable names are case-sensitive: `switchyard_master_key` (or `database_url`) is read by no one,
  // and is named like any other misspelling.
  const ours = (name: string) => name.toUpperCase().startsWith('SWITCHYARD_') || (name !== name.toUpperCase() && known.includes(name.toUpperCase()));
  return Object.keys(env).filter((name) => ours(name) && !namesBesideSettings.has(name) && !known.includes(name)).sort()
    .map((name) => {
      const [meant, distance] = known.map((k) => [k, editDistance(name.toUpperCase(), k)] as const).reduce((a, b) => (b[1] < a[1] ? b : a));
      return { name, meant: distance <= Math.max(3, Math.floor(meant.length / 4)) ? meant : undefined };
    });
}

/** How many letters must be inserted, deleted or replaced to turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The line an operator reads for each variable no setting has. */
export const unknownSettingLines = (env: NodeJS.ProcessEnv = process.env): string[] =>
  unknownSettings(env).map(({ name, meant }) => `warning: ${name} is no setting of Switchyard and is ignored${meant ? ` (did you mean ${meant}? it stays at its default)` : ''}`);

/** The raw text of a setting, or undefined when unset or empty. */
function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  settingOf(name);
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A numeric setting, checked against its declared type and minimum; `fallback` overrides the declared default. */
function num(env: NodeJS.ProcessEnv, name: string, fallback?: number): number {
  const s = settingOf(name);
  const v = text(env, name);
  const byDefault = fallback ?? (typeof s.default === 'number' ? s.default : undefined);
  if (v === undefined) {
    if (byDefault === undefined) throw new Error(`${name} has no default`);
    return byDefault;
  }
  // Plain decimals only: Number() would also read 0x10, 1e3 and 0b1, which nobody means for a port or a timeout.
  const n = /^[0-9]+(\.[0-9]+)?$/.test(v.trim()) ? Number(v.trim()) : NaN;
  const ok = Number.isFinite(n) && n >= (s.min ?? 0)
    && (s.type !== 'integer' || Number.isInteger(n)) && (s.type !== 'rate' || n <= 1);
  if (!ok) throw invalid(s, v);
  // A Node timer waits at most this long; given more it fires after 1 ms (a PSP timeout of 1 ms
  // would leave every payment's outcome unknown).
  if (s.unit === ms && !s.compared && n > longestTimerMs) throw invalid(s, v, `at most ${longestTimerMs} ms (about 24.8 days), the longest a timer can wait`);
  if (s.unit === ms && s.compared && n > longestComparedMs) throw invalid(s, v, `at most ${longestComparedMs} ms (ten years)`);
  if (s.unit === 'days' && n * 86_400_000 > longestComparedMs) throw invalid(s, v, 'at most 3650 days (ten years)');
  return n;
}

/** Refuses to start on a malformed allow list rather than silently refusing (or opening) ranges. */
function checkedAllowList(env: NodeJS.ProcessEnv): string | undefined {
  const v = text(env, 'SWITCHYARD_WEBHOOK_ALLOW');
  try { parseAllowList(v); } catch (err) { throw invalid(settingOf('SWITCHYARD_WEBHOOK_ALLOW'), v!, (err as Error).message.replace(/^SWITCHYARD_WEBHOOK_ALLOW: /, '')); }
  return v;
}

/** Beside a fixed gateway port by default; a gateway on a random port (PORT=0) runs no demo unless asked. */
function demoPortOf(env: NodeJS.ProcessEnv, port: number): number {
  // Beside the highest port there is none: no demo unless one is named.
  const demoPort = num(env, 'SWITCHYARD_DEMO_PORT', port === 0 || port === 65_535 ? 0 : port + 1);
  if (text(env, 'SWITCHYARD_DEMO_PORT') !== undefined && demoPort > 65_535) throw invalid(settingOf('SWITCHYARD_DEMO_PORT'), String(demoPort), 'a TCP port is at most 65535');
  return demoPort;
}

function publicUrlOf(env: NodeJS.ProcessEnv): string | undefined {
  const v = text(env, 'SWITCHYARD_PUBLIC_URL');
  if (!v) return undefined;
  let url: URL;
  try { url = new URL(v); } catch { throw invalid(settingOf('SWITCHYARD_PUBLIC_URL'), v); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(settingOf('SWITCHYARD_PUBLIC_URL'), v);
  // The hosted pages, their forms, styles and scripts name their paths from the root of the
  // address: published under a path (`https://shop.example/pay`), the links handed out carried it
  // and the pages' own posts left it, so a shopper's 3-D Secure answer reached no gateway.
  if (url.pathname.replace(/\/+$/, '') !== '' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw invalid(settingOf('SWITCHYARD_PUBLIC_URL'), v, 'expected the address alone (scheme, host and port), with no path: the gateway is served from the root of its address, so a proxy must publish it on a host (or port) of its own');
  }
  return url.origin;
}

function httpTimeouts(env: NodeJS.ProcessEnv): HttpTimeouts {
  const requestTimeoutMs = num(env, 'SWITCHYARD_REQUEST_TIMEOUT_MS');
  const headersTimeoutMs = num(env, 'SWITCHYARD_HEADERS_TIMEOUT_MS', Math.min(10_000, requestTimeoutMs || 10_000));
  // Node refuses a headers limit above the request limit; saying so here names the variables.
  if (requestTimeoutMs > 0 && (headersTimeoutMs === 0 || headersTimeoutMs > requestTimeoutMs)) {
    throw new ConfigError(`SWITCHYARD_HEADERS_TIMEOUT_MS (${headersTimeoutMs}) must be between 1 and SWITCHYARD_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  const keepAliveTimeoutMs = num(env, 'SWITCHYARD_KEEP_ALIVE_TIMEOUT_MS');
  return Object.freeze({ requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs });
}

function storageOf(env: NodeJS.ProcessEnv, dataDir: string): StorageTarget {
  const url = text(env, 'DATABASE_URL');
  // Checked even for SQLite: a mistyped value is refused the day it is set, not the day PostgreSQL is.
  const statementDeadlineMs = num(env, 'SWITCHYARD_PG_STATEMENT_DEADLINE_MS');
  const prepared = text(env, 'SWITCHYARD_PG_PREPARED_STATEMENTS')?.trim().toLowerCase() ?? 'on';
  if (prepared !== 'on' && prepared !== 'off') throw invalid(settingOf('SWITCHYARD_PG_PREPARED_STATEMENTS'), text(env, 'SWITCHYARD_PG_PREPARED_STATEMENTS')!);
  const unitDeadlineMs = num(env, 'SWITCHYARD_UNIT_DEADLINE_MS');
  if (!url) return { kind: 'sqlite', dataDir, unitDeadlineMs };
  let parsed: URL | undefined;
  try { parsed = new URL(url); } catch { parsed = undefined; }
  // The URL itself may carry a password: the message shows its scheme only.
  if (!parsed || (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')) {
    throw new ConfigError(`DATABASE_URL is not valid: expected ${expectation(settingOf('DATABASE_URL'))}, got one starting ${JSON.stringify(url.slice(0, url.indexOf(':') + 1 || 12))}. ${settingOf('DATABASE_URL').description}`);
  }
  return { kind: 'postgres', url, statementDeadlineMs, unitDeadlineMs, ...(prepared === 'off' ? { preparedStatements: false } : {}) };
}

/** One typed, frozen configuration read from the environment, with working defaults. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = text(env, 'SWITCHYARD_DATA_DIR') ?? './data';
  const storage = storageOf(env, dataDir);
  const masterKey = text(env, 'SWITCHYARD_MASTER_KEY');
  if (masterKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(masterKey)) {
    // Never echo a key, even a malformed one: only its length.
    throw new ConfigError(`SWITCHYARD_MASTER_KEY is not valid: expected ${expectation(settingOf('SWITCHYARD_MASTER_KEY'))}, got ${masterKey.length} characters${/^[0-9a-fA-F]*$/.test(masterKey) ? '' : ' (not all hex)'}`);
  }
  const logLevel = text(env, 'LOG_LEVEL') ?? 'info';
  if (!(logLevels as readonly string[]).includes(logLevel)) throw invalid(settingOf('LOG_LEVEL'), logLevel);
  const port = num(env, 'PORT');
  if (port > 65_535) throw invalid(settingOf('PORT'), String(port), 'a TCP port is at most 65535');
  return Object.freeze({
    port,
    host: text(env, 'HOST') ?? '127.0.0.1',
    storage,
    dataDir,
    masterKey,
    pspTimeoutMs: num(env, 'SWITCHYARD_PSP_TIMEOUT_MS'),
    breaker: Object.freeze({
      failureThreshold: num(env, 'SWITCHYARD_BREAKER_FAILURES'),
      openMs: num(env, 'SWITCHYARD_BREAKER_OPEN_MS'),
    }),
    simulator: Object.freeze({
      latencyMs: num(env, 'SWITCHYARD_SIM_LATENCY_MS'),
      jitterMs: num(env, 'SWITCHYARD_SIM_JITTER_MS'),
      timeoutRate: num(env, 'SWITCHYARD_SIM_TIMEOUT_RATE'),
      errorRate: num(env, 'SWITCHYARD_SIM_ERROR_RATE'),
    }),
    asyncTimeoutMs: num(env, 'SWITCHYARD_ASYNC_TIMEOUT_MS'),
    bankReceiptDelayMs: num(env, 'SWITCHYARD_BANK_RECEIPT_DELAY_MS'),
    authorizationExpiryMs: Math.round(num(env, 'SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS') * 86_400_000),
    authorizationExpiryByBrandMs: expiryByBrand(text(env, 'SWITCHYARD_AUTHORIZATION_EXPIRY_DAYS_BY_BRAND')),
    publicUrl: publicUrlOf(env),
    keyRefreshMs: num(env, 'SWITCHYARD_KEY_REFRESH_MS'),
    logLevel,
    demoCredentialsFile: text(env, 'SWITCHYARD_DEMO_FILE') ?? `${dataDir}/demo-merchant.env`,
    webhooks: Object.freeze({
      allow: checkedAllowList(env),
      timeoutMs: num(env, 'SWITCHYARD_WEBHOOK_TIMEOUT_MS'),
      pollMs: num(env, 'SWITCHYARD_WEBHOOK_POLL_MS'),
      disableAfterMs: num(env, 'SWITCHYARD_WEBHOOK_DISABLE_AFTER_HOURS') * 3_600_000,
      batchSize: num(env, 'SWITCHYARD_WEBHOOK_BATCH'),
      retentionMs: Math.round(num(env, 'SWITCHYARD_WEBHOOK_RETENTION_DAYS') * 86_400_000),
    }),
    longPollMs: num(env, 'SWITCHYARD_LONG_POLL_MS'),
    ephemeralInstrumentTtlMs: num(env, 'SWITCHYARD_EPHEMERAL_INSTRUMENT_TTL_MS'),
    demoPort: demoPortOf(env, port),
    adminToken: bearerToken(env, 'SWITCHYARD_ADMIN_TOKEN'),
    metricsToken: bearerToken(env, 'SWITCHYARD_METRICS_TOKEN'),
    jobs: Object.freeze({
      leaseMs: num(env, 'SWITCHYARD_JOB_LEASE_MS'),
      pollMs: num(env, 'SWITCHYARD_JOB_POLL_MS'),
    }),
    http: httpTimeouts(env),
  });
}

const defaultCell = (s: Setting): string => {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined) return 'none';
  return `\`${s.default}\``;
};

/**
 * The configuration reference (docs/configuration.md), generated from `settings`:
 * `node scripts/configuration-doc.ts > docs/configuration.md`; a test fails when they differ.
 */
export function configurationMarkdown(): string {
  const lines = [
    '# Configuration reference',
    '',
    'Switchyard reads its settings from environment variables only; every one it reads is listed here,',
    'with its default and unit. An unset or empty variable takes the default. A value the gateway',
    'cannot use stops it at start with one line naming the variable, the value and what is expected,',
    'for example:',
    '',
    '```',
    '$ SWITCHYARD_PSP_TIMEOUT_MS=10s npm start',
    `switchyard failed to start: ${invalid(settingOf('SWITCHYARD_PSP_TIMEOUT_MS'), '10s').message}`,
    '```',
    '',
    'A master key that does not open the store\'s card keys (the store was created under another one)',
    'is refused the same way, naming the variable and the key file instead of a cipher error. A',
    '`SWITCHYARD_` variable that is none of these (a misspelling) is named at start, with the setting it',
    'is closest to, which stays at its default. Names are case-sensitive: one of these written in lower',
    'case (`database_url`) is read by nothing, and is named the same way.',
    '',
    'Numbers are plain decimals (`0x10` and `1e3` are refused). A duration in ms that a timer waits',
    `for is at most ${longestTimerMs} (about 24.8 days), the longest a Node timer can wait; one only`,
    `compared with stored times (marked below) at most ${longestComparedMs} (ten years), and a number`,
    'of days at most 3650; a port at most 65535.',
    '',
    'Generated from `settings` in `src/config.ts` by `node scripts/configuration-doc.ts > docs/configuration.md`;',
    'a test fails when this file and the code differ.',
  ];
  for (const group of [...new Set(settings.map((s) => s.group))]) {
    lines.push('', `## ${group}`, '', '| Variable | Type | Default | Unit | Meaning |', '|---|---|---|---|---|');
    for (const s of settings.filter((x) => x.group === group)) {
      const unit = s.unit === ms && s.compared ? 'ms (compared, ≤ ten years)' : s.unit ?? '';
      lines.push(`| \`${s.name}\` | ${s.type} | ${defaultCell(s)} | ${unit} | ${s.description.replaceAll('|', '\\|')} |`);
    }
  }
  lines.push(
    '',
    '## Launcher',
    '',
    '`npm start`, `npm run cli` and `npm test` go through `scripts/launch.mjs`, which reads these before the',
    'gateway starts (they are not gateway settings, so nothing above checks them). On a `node` older',
    'than 24 it runs the program with a Node 24 it finds or installs once from the npm registry.',
    '',
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    '| `SWITCHYARD_NODE` | unset | Path of a Node 24 (or newer) binary to run with, tried first. |',
    '| `SWITCHYARD_NODE_CACHE` | `$XDG_CACHE_HOME/switchyard/node-24`, else `~/.cache/switchyard/node-24` | Folder the registry\'s `node@24` is installed into and looked for in. |',
    '| `SWITCHYARD_NODE_DOWNLOAD` | unset | `0` refuses the download: an older `node` then stops, saying what it needs and how to get it. |',
    '',
    'The launcher also starts Node with `--max-semi-space-size=8` (V8\'s young generation, see',
    '[architecture.md](architecture.md)) unless `NODE_OPTIONS` or node\'s own arguments name that flag.',
  );
  return lines.join('\n') + '\n';
}
