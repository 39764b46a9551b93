import { randomHex, readsAsDigits } from './ids.ts';
import { holdsCardNumber } from './scrub.ts';

/**
 * W3C Trace Context (`traceparent: 00-<trace id>-<parent span id>-<flags>`). A request that brings
 * one joins its trace; one that does not starts a trace. Work done for the request (log lines, PSP
 * calls, and the webhooks its events cause) carries the trace id, and each outgoing call gets a
 * child `traceparent` of its own span, so a merchant's or PSP's tracing links the hops.
 */
export interface TraceContext {
  readonly traceId: string;
  /** This hop's span (the parent of the calls it makes). */
  readonly spanId: string;
  readonly flags: string;
}

const pattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * A span id whose `traceparent` never reads as a card number (the dashes are separators to a card
 * screen, so the trace id's last digits, the span's and the flags' run on), in our log lines or in
 * the PSPs' and webhook receivers' that get it. A caller's own trace id that reads as digits by
 * itself no span can help, and is left so; one that holds a card number is not joined (`traceFrom`).
 */
function newSpanId(traceId: string, flags: string): string {
  const hopeless = readsAsDigits(`00-${traceId}-`);
  for (let tries = 0; ; tries++) {
    const spanId = randomHex(8);
    if (hopeless || tries >= 64 || !readsAsDigits(`00-${traceId}-${spanId}-${flags}`)) return spanId;
  }
}

/** The caller's trace joined with a new span of ours, or a new trace when the header is absent or invalid (as the spec asks). */
export function traceFrom(header: string | string[] | undefined): TraceContext {
  const m = typeof header === 'string' ? pattern.exec(header.trim().toLowerCase()) : null;
  // Version ff is forbidden; all-zero ids are invalid; a future version may append fields after ours.
  // A trace id holding a card number would be stored with the request's events and sent on to PSPs
  // and webhook receivers: the request starts a trace of its own instead, as for an invalid header
  // (a request id holding one is replaced the same way).
  if (m && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!) && (m[1] !== '00' || m[5] === undefined) && !holdsCardNumber(m[2]!, 'any')) {
    return { traceId: m[2]!, spanId: newSpanId(m[2]!, m[4]!), flags: m[4]! };
  }
  return newTrace();
}

export function newTrace(): TraceContext {
  for (;;) {
    const traceId = randomHex(16);
    // Nor the trace id alone, nor one ending in more digits than a span could start after.
    if (!readsAsDigits(`00-${traceId}`) && !/[0-9]{9}$/.test(traceId)) return { traceId, spanId: newSpanId(traceId, '01'), flags: '01' };
  }
}

/** The `traceparent` of this hop itself (what a stored event remembers as its cause). */
export const traceparentOf = (t: TraceContext): string => `00-${t.traceId}-${t.spanId}-${t.flags}`;

/** A `traceparent` for one outgoing call: same trace, a new span whose parent is `t`'s. */
export function childTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${newSpanId(t.traceId, t.flags)}-${t.flags}`;
}
