import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { connect, type AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { startGateway, type Gateway } from './harness.ts';
import { adyenFakeCredentials, startAdyenFake, type AdyenFake } from './fake-psps/adyen.ts';
import { adminHeaders } from './process.ts';
import { selfSignedCertificate } from './tls-proxy.ts';

/** Enough of a gateway to call it: its URL and the merchant's credentials (an in-process harness or a real process). */
export type Reachable = Pick<Gateway, 'url' | 'merchant'>;

export interface Json { status: number; headers: Headers; body: any }

/** A JSON call of the executions dialect, as a merchant backend makes it. */
export async function call(gw: Reachable, method: string, path: string, opts: { token?: string | null; body?: unknown; key?: string | null; headers?: Record<string, string> } = {}): Promise<Json> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const key = opts.key === undefined ? randomUUID() : opts.key;
  if (key !== null && method !== 'GET') headers['x-idempotency-key'] = key;
  const res = await fetch(gw.url + path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export async function tokenOf(gw: Reachable): Promise<string> {
  const r = await fetch(`${gw.url}/auth/token/${gw.merchant.clientId}`, { method: 'POST', headers: { 'x-api-key': gw.merchant.apiKey } });
  return ((await r.json()) as { access_token: string }).access_token;
}

export const wf = '/merchant/workflows/payment-acceptance/executions';

export async function instrument(gw: Reachable, token: string, cardNumber = '4111111111111111', holderReference = 'customer-1'): Promise<string> {
  const r = await call(gw, 'POST', '/payment/instruments', {
    token, body: { holderReference, paymentMethod: 'card', data: { cardNumber, expiryMonth: '03', expiryYear: '30', securityCode: '737', holderName: 'John Doe' } },
  });
  if (r.status !== 201) throw new Error(`instrument: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

export async function execution(gw: Reachable, token: string, holderReference = 'customer-1', merchantReference = `order-${randomUUID().slice(0, 8)}`): Promise<string> {
  const r = await call(gw, 'POST', wf, { token, body: { merchantReference, holderReference, workspaceId: gw.merchant.workspaceId, meta: { order: { reference: merchantReference } } } });
  if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

export const authorizeBody = (instrumentId: string, value = '129.90') => ({
  amount: { value, currency: 'EUR' }, returnInfo: { success: 'https://shop.example/return' },
  paymentComposition: [{ paymentMethodCode: 'card', integrationType: 'api', amount: { value, currency: 'EUR' }, storeInstrument: false, paymentInstrumentId: instrumentId }],
});

/** Long-polls until the execution leaves `statuses` (or the server's time limit). */
export async function poll(gw: Reachable, token: string, id: string, statuses: string[]): Promise<any> {
  const r = await call(gw, 'GET', `${wf}/${id}?waitWhile[status]=${encodeURIComponent(JSON.stringify(statuses))}`, { token });
  return r.body;
}

/** Configures the test merchant's PSP accounts and cascade through the admin API. */
export async function configureCascade(gw: Pick<Gateway, 'url' | 'merchant' | 'dataDir'> & { app?: Gateway['app'] }, accounts: Record<string, unknown>, order: string[], moveOn?: string[]): Promise<void> {
  const admin = adminHeaders(gw.dataDir, gw.app?.config.adminToken);
  for (const [name, behaviour] of Object.entries(accounts)) {
    const r = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/psp-accounts/${name}`, { method: 'PUT', headers: admin, body: JSON.stringify(behaviour) });
    if (r.status !== 200) throw new Error(`account ${name}: ${r.status} ${await r.text()}`);
  }
  const r = await fetch(`${gw.url}/admin/merchants/${gw.merchant.merchantId}/workflows/payment-acceptance`, {
    method: 'PATCH', headers: admin, body: JSON.stringify({ accounts: order, ...(moveOn ? { moveOn } : {}) }),
  });
  if (r.status !== 200) throw new Error(`workflow: ${r.status} ${await r.text()}`);
}

/**
 * A TLS front for a gateway (the seed's code calls `https://{host}`): a self-signed certificate for
 * 127.0.0.1 and a byte pipe to the gateway. `caFile` is what the client trusts.
 */
export async function tlsFront(targetUrl: string): Promise<{ host: string; caFile: string; close(): Promise<void> }> {
  const { key, cert, certFile } = selfSignedCertificate();
  const target = new URL(targetUrl);
  const server = createServer({ key, cert }, (tls) => {
    const plain = connect(Number(target.port), target.hostname);
    tls.pipe(plain).pipe(tls);
    const end = () => { tls.destroy(); plain.destroy(); };
    tls.on('error', end); plain.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { host: `127.0.0.1:${port}`, caFile: certFile, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The Python that runs the seed's backend: `SEED_PYTHON`, else `python3` on the PATH. */
export const seedPython = process.env.SEED_PYTHON || 'python3';

/** Why the seed's backend cannot run here (no Python, or no `requests`), or undefined when it can. */
export function seedPythonMissing(): string | undefined {
  const r = spawnSync(seedPython, ['-c', 'import requests'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) return `${seedPython} was not found (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install Python 3 or set SEED_PYTHON`;
  if (r.status !== 0) return `${seedPython} cannot import requests (pip install requests): ${r.stderr.trim().split('\n').at(-1) ?? ''}`;
  return undefined;
}

/** Runs one step of the seed's Python backend (test/seed/driver.py) and returns its JSON result. */
export function runSeed(env: Record<string, string>, args: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(seedPython, ['driver.py', ...args], { cwd: join(import.meta.dirname, '..', 'seed'), env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

/**
 * An execution authorized with a card of its own (holder and merchant reference `ref`) for `value`
 * EUR: its id and its payment's id, once it reads `authorized`.
 */
export async function authorizedExecution(gw: Reachable, token: string, ref: string, cardNumber: string, value: string): Promise<{ id: string; paymentId: string }> {
  const id = await execution(gw, token, ref);
  const ack = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(await instrument(gw, token, cardNumber, ref), value) });
  assert.equal(ack.status, 200, JSON.stringify(ack.body));
  const e = await poll(gw, token, id, ['created', 'authorizeRequested']);
  assert.equal(e.status, 'authorized', JSON.stringify(e.statusHistory?.at(-1)));
  return { id, paymentId: e.paymentComposition[0].paymentId };
}

/**
 * A gateway whose cascade is one Adyen account with multiple partial captures, before a fake Adyen
 * that behaves the same; with an executions token.
 */
export async function startAdyenMultiCapture(): Promise<{ gw: Gateway; adyen: AdyenFake; token: string }> {
  const [adyen, gw] = await Promise.all([startAdyenFake({ multiplePartialCaptures: true }), startGateway({ env: { SWITCHYARD_LONG_POLL_MS: '1000' } })]);
  await configureCascade(gw, { adyen: { connector: 'adyen', settings: { baseUrl: adyen.url, ...adyenFakeCredentials, multiplePartialCaptures: true } } }, ['adyen']);
  return { gw, adyen, token: await tokenOf(gw) };
}
