import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { tempDir, testPostgresUrl, type Gateway } from './harness.ts';
import { openStorage, type Storage } from '../../src/storage/database.ts';
import { createWebhookStore } from '../../src/webhooks/kysely-store.ts';
import type { EndpointRecord, WebhookStore } from '../../src/webhooks/store.ts';
import { seal } from '../../src/runtime/crypto.ts';
import { createMerchantStore } from '../../src/merchants/kysely-store.ts';

/** Loopback only: what the tests' gateways are allowed to call. */
export const loopbackAllow = '127.0.0.0/8,::1/128';

/** A free TCP port on 127.0.0.1 (listened on and released). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
}

export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

export interface RawRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Records every request's headers and raw body beside whatever the server's own handler does. */
export function recordRequests(server: Server): RawRequest[] {
  const seen: RawRequest[] = [];
  server.prependListener('request', (req) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
  });
  return seen;
}

/** A call to the operator API with the gateway's admin token (or `token`). */
export async function admin(gw: Pick<Gateway, 'url'> & { app?: Gateway['app'] }, method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  const t = token === undefined ? gw.app!.admin.token : token;
  if (t !== null) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(gw.url + '/admin/api' + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * A webhook store on a fresh SQLite folder or PostgreSQL schema, holding one merchant (the
 * deliveries' and endpoints' owner); `close` closes it and removes the folder or schema.
 */
export async function openWebhookStore(kind: 'sqlite' | 'postgres', name: string): Promise<{ storage: Storage; store: WebhookStore; merchantId: string; close(): Promise<void> }> {
  const id = () => randomBytes(16).toString('hex');
  let storage: Storage;
  let cleanup: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir = tempDir(`${name}-`);
    storage = await openStorage({ kind: 'sqlite', dataDir: dir });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `sy_${name.replace(/[^a-z0-9]/g, '')}_${randomBytes(5).toString('hex')}`;
    storage = await openStorage({ kind: 'postgres', url: testPostgresUrl, schema });
    cleanup = async () => {
      const c = new pg.Client({ connectionString: testPostgresUrl });
      await c.connect();
      try { await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await c.end(); }
    };
  }
  const merchantId = id();
  await createMerchantStore(storage.uow).insert({
    merchant: { id: merchantId, name: 'M', live: false, clientId: id(), workspaceId: id(), createdAt: 1, tokenGeneration: 1 },
    entity: { id: id(), merchantId, channelName: 'web shop', uniqueMerchantTransactionId: false },
    credentials: [],
  } as never);
  return { storage, store: createWebhookStore(storage.uow), merchantId, close: async () => { await storage.close(); await cleanup(); } };
}

/** Inserts an active executions endpoint of the merchant, its secret sealed with `key` (the worker's sealing key). */
export async function insertTestEndpoint(store: WebhookStore, merchantId: string, key: Buffer, overrides: Partial<EndpointRecord> = {}): Promise<EndpointRecord> {
  const eid = randomBytes(16).toString('hex');
  const e: EndpointRecord = {
    id: eid, merchantId, dialect: 'executions', entityId: undefined, url: 'https://example.com/hook', types: [],
    sealedSecret: seal(key, Buffer.from('S'.repeat(64)), `webhook:${eid}`), sealedPreviousSecret: undefined, previousSecretUntil: undefined,
    status: 'active', failingSince: undefined, createdAt: 1, updatedAt: 1, ...overrides,
  };
  await store.insertEndpoint(e, []);
  return e;
}
