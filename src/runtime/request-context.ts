import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { scrubPans } from './scrub.ts';

/**
 * The request a piece of work is done for. Services log through the root logger (they know nothing
 * of HTTP); the logger's mixin reads this so their lines carry the request id too.
 */
const current = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it starts) as work for request `id`. */
export function runForRequest<T>(id: string, fn: () => T): T {
  return current.run(id, fn);
}

/** The id of the request the caller's work belongs to, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore();
}

/**
 * A caller's id is echoed into headers, bodies and log lines, so only a short token of safe
 * characters is taken (no spaces, quotes or control characters that could forge a log field or a
 * header, and nothing that reads as a card number, which would be echoed in a body); anything else is replaced by a fresh id rather than refused, as proxies expect.
 */
const acceptable = /^[A-Za-z0-9._:@\-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptable.test(header) && scrubPans(header) === header ? header : randomUUID();
}
