import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { scrubPans } from './scrub.ts';
import { childTraceparent, newTrace, type TraceContext } from './trace.ts';

/**
 * The request a piece of work is done for. Services log through the root logger (they know nothing
 * of HTTP); the logger's mixin reads this so their lines carry the request id too.
 */
const current = new AsyncLocalStorage<{ readonly requestId: string; readonly trace: TraceContext | undefined }>();

/** Runs `fn` (and everything it starts) as work for request `id`, in its trace when it has one. */
export function runForRequest<T>(id: string, fn: () => T, trace?: TraceContext): T {
  return current.run({ requestId: id, trace }, fn);
}

/** The id of the request the caller's work belongs to, if any. */
export function currentRequestId(): string | undefined {
  return current.getStore()?.requestId;
}

/** The trace the caller's work belongs to, if any (see trace.ts). */
export function currentTrace(): TraceContext | undefined {
  return current.getStore()?.trace;
}

/** A `traceparent` for an outgoing call: a child of the current trace, or the start of a new one outside any request. */
export function outgoingTraceparent(): string {
  return childTraceparent(currentTrace() ?? newTrace());
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
