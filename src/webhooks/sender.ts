import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { AddressPolicy } from './address.ts';

export interface SendRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

export interface SendResult {
  /** The HTTP status, when an answer came back. */
  readonly status: number | undefined;
  readonly latencyMs: number;
  /** The start of the answer's body (at most `excerptLimit` bytes read). */
  readonly excerpt: string | undefined;
  /** Why no usable answer came (refused address, timeout, connection error). */
  readonly error: string | undefined;
}

/** Sends one webhook attempt; never throws. */
export type Sender = (req: SendRequest) => Promise<SendResult>;

export class RefusedAddressError extends Error {
  readonly code = 'EREFUSEDADDRESS';
}

/**
 * DNS resolution that refuses before connecting: every address the name resolves to must pass the
 * policy, so a name that resolves (or re-resolves, DNS rebinding) to a refused address is never
 * connected to. IP literals skip lookup in node, so `createSender` checks them itself.
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const list = addresses as { address: string; family: number }[];
      const refused = list.map((a) => policy.refusal(a.address)).find((r) => r !== undefined);
      if (refused || list.length === 0) return callback(new RefusedAddressError(`refused: ${hostname} resolves to a refused address (${refused ?? 'none'})`));
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  }) as LookupFunction;
}

/**
 * The webhook HTTP client: a new connection per attempt (so every attempt resolves and checks
 * again), no redirects followed (a 3xx is a failed attempt), at most `excerptLimit` bytes of the
 * answer read, the whole exchange bounded by the timeout.
 */
export function createSender(policy: AddressPolicy, options: { excerptLimit?: number; userAgent?: string } = {}): Sender {
  const limit = options.excerptLimit ?? 1024;
  const lookup = guardedLookup(policy);
  return (req) => new Promise<SendResult>((resolve) => {
    const started = performance.now();
    const done = (status: number | undefined, excerpt: string | undefined, error: string | undefined) =>
      resolve({ status, latencyMs: Math.round(performance.now() - started), excerpt, error });
    let url: URL;
    try { url = new URL(req.url); } catch { return done(undefined, undefined, 'invalid URL'); }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const refused = policy.refusal(host);
      if (refused) return done(undefined, undefined, `refused: ${refused}`);
    }
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) return done(undefined, undefined, `unsupported scheme ${url.protocol}`);
    let settled = false;
    const finish = (status: number | undefined, excerpt: string | undefined, error: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(status, excerpt, error);
    };
    const request = client.request(url, {
      method: 'POST', agent: false, lookup,
      headers: { 'user-agent': options.userAgent ?? 'Switchyard-Webhooks', ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const end = () => {
        finish(res.statusCode, Buffer.concat(chunks).subarray(0, limit).toString('utf8'), undefined);
        request.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= limit) end();
      });
      res.on('end', end);
      res.on('error', () => end());
    });
    const timer = setTimeout(() => {
      finish(undefined, undefined, `timeout after ${req.timeoutMs} ms`);
      request.destroy();
    }, req.timeoutMs);
    request.on('error', (err: Error) => finish(undefined, undefined, err instanceof RefusedAddressError ? err.message : `${(err as NodeJS.ErrnoException).code ?? 'error'}: ${err.message}`));
    request.end(req.body);
  });
}
