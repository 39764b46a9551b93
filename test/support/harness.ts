import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.ts';
import { createApp, type App, type AppOverrides } from '../../src/app.ts';
import { createLogger } from '../../src/runtime/logger.ts';
import { defaultPostgresUrl, postgresReachable } from '../../src/storage/postgres.ts';
import type { MerchantCredentials } from '../../src/merchants/service.ts';

/** The PostgreSQL the tests use: TEST_DATABASE_URL, DATABASE_URL, else the local server's `test` database. */
export const testPostgresUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || defaultPostgresUrl;

let pgChecked: Promise<boolean> | undefined;
/** Whether PostgreSQL answers; the test command itself fails under CI when it does not. */
export function postgresAvailable(): Promise<boolean> {
  pgChecked ??= postgresReachable(testPostgresUrl);
  return pgChecked;
}

async function dropSchema(schema: string) {
  const client = new pg.Client({ connectionString: testPostgresUrl });
  await client.connect();
  try { await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await client.end(); }
}

export function tempDir(prefix = 'switchyard-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Gateway {
  readonly url: string;
  readonly app: App;
  readonly merchant: MerchantCredentials;
  readonly dataDir: string;
  /** Every log line the gateway wrote, for leak scans. */
  readonly logs: string[];
  close(): Promise<void>;
}

export interface GatewayOptions extends AppOverrides {
  store?: 'sqlite' | 'postgres';
  env?: Record<string, string>;
}

/** A real gateway on a free port, over a fresh store (a temp SQLite folder or a new PostgreSQL schema). */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const dataDir = tempDir();
  // Read with the test database's URL, so the storage settings the env gives (deadlines) hold on PostgreSQL too.
  const base = loadConfig({ SWITCHYARD_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ...(options.store === 'postgres' ? { DATABASE_URL: testPostgresUrl } : {}), ...options.env });
  const schema = `sy_test_${randomBytes(6).toString('hex')}`;
  const config: Config = base.storage.kind === 'postgres' && options.store === 'postgres'
    ? { ...base, storage: { ...base.storage, url: options.env?.DATABASE_URL ?? testPostgresUrl, schema } }
    : base;
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const logger = options.logger ?? createLogger({ level: 'info', destination: sink as never });
  const app = await createApp(config, { ...options, logger });
  const merchant = await app.merchants.create({ name: 'Test Merchant' });
  const address = await app.server.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address, app, merchant, dataDir, logs,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (options.store === 'postgres') await dropSchema(schema);
    },
  };
}

/**
 * Another node of a gateway started on PostgreSQL: a second app over the same schema (its own pool,
 * jobs and wake-ups), listening on a port of its own; closed by the caller before the first.
 */
export async function secondNode(first: Gateway, overrides: AppOverrides = {}): Promise<{ app: App; url: string; merchant: MerchantCredentials }> {
  const storage = first.app.config.storage;
  if (storage.kind !== 'postgres') throw new Error('a second node needs a gateway on PostgreSQL');
  const app = await createApp({ ...first.app.config, storage }, { logger: first.app.logger, ...overrides });
  return { app, url: await app.server.listen({ port: 0, host: '127.0.0.1' }), merchant: first.merchant };
}

export const testCard = {
  'card.number': '4200000000000000',
  'card.holder': 'Jane Jones',
  'card.expiryMonth': '05',
  'card.expiryYear': '2034',
  'card.cvv': '123',
  paymentBrand: 'VISA',
} as const;

export interface OppResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** A /v1 call as a merchant's backend makes it: form body for POST, query string for GET. */
export async function opp(gw: { url: string; merchant: MerchantCredentials }, method: 'GET' | 'POST' | 'DELETE', path: string,
  params: Record<string, string> = {}, token: string | null = gw.merchant.accessToken): Promise<OppResponse> {
  const withEntity = { entityId: gw.merchant.entityId, ...params };
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let url = gw.url + path;
  let body: string | undefined;
  if (method === 'POST') {
    headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
    body = new URLSearchParams(withEntity).toString();
  } else {
    url += (path.includes('?') ? '&' : '?') + new URLSearchParams(withEntity).toString();
  }
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** A successful initial payment's id, or a failed assertion. */
export async function pay(gw: Pick<Gateway, 'url' | 'merchant'>, params: Record<string, string> = {}): Promise<OppResponse> {
  return opp(gw, 'POST', '/v1/payments', { amount: '92.00', currency: 'EUR', paymentType: 'DB', ...testCard, ...params });
}

/**
 * Runs `meanwhile` just before the gateway's next unit of work starts, once: a race forced into
 * the gap between a read and the write that follows it. Returns what undoes the hook.
 */
export function beforeNextUnitOfWork(gw: Gateway, meanwhile: () => Promise<unknown>): () => void {
  const uow = gw.app.storage.uow as { run: (fn: unknown) => Promise<unknown> };
  const original = uow.run.bind(uow);
  let armed = true;
  uow.run = async (fn: unknown) => {
    if (armed) {
      armed = false;
      await meanwhile();
    }
    return original(fn);
  };
  return () => { uow.run = original; };
}
