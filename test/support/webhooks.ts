import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from './harness.ts';

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
