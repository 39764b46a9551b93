import { randomHex } from './ids.ts';

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

const newSpanId = () => randomHex(8);

/** The caller's trace joined with a new span of ours, or a new trace when the header is absent or invalid (as the spec asks). */
export function traceFrom(header: string | string[] | undefined): TraceContext {
  const m = typeof header === 'string' ? pattern.exec(header.trim().toLowerCase()) : null;
  // Version ff is forbidden; all-zero ids are invalid; a future version may append fields after ours.
  if (m && m[1] !== 'ff' && !/^0+$/.test(m[2]!) && !/^0+$/.test(m[3]!) && (m[1] !== '00' || m[5] === undefined)) {
    return { traceId: m[2]!, spanId: newSpanId(), flags: m[4]! };
  }
  return newTrace();
}

export function newTrace(): TraceContext {
  return { traceId: randomHex(16), spanId: newSpanId(), flags: '01' };
}

/** The `traceparent` of this hop itself (what a stored event remembers as its cause). */
export const traceparentOf = (t: TraceContext): string => `00-${t.traceId}-${t.spanId}-${t.flags}`;

/** A `traceparent` for one outgoing call: same trace, a new span whose parent is `t`'s. */
export function childTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${newSpanId()}-${t.flags}`;
}
