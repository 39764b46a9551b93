import { outgoingTraceparent } from '../runtime/request-context.ts';
import { clipText } from '../runtime/utf8.ts';

/**
 * One HTTP call to a PSP, shared by the connectors that speak HTTP: bounded in time and in answer
 * size, never following redirects (a PSP that redirects an API call is misconfigured, and a card
 * must not follow it), carrying the caller's trace (`traceparent`), and failing with a message that
 * names the call but never its body.
 */
export interface PspAnswer {
  readonly status: number;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  readonly json: unknown;
}

/** A PSP's answer is small; anything larger is not read into memory. */
const maxAnswerBytes = 1 << 20;

export async function pspFetch(url: string, init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; timeoutMs: number }): Promise<PspAnswer> {
  let res: Response;
  const path = new URL(url).pathname;
  // The payment's trace goes on to the PSP, as a child span of the request that caused the call.
  const headers = { ...init.headers, traceparent: outgoingTraceparent() };
  try {
    res = await fetch(url, {
      method: init.method, headers, redirect: 'error', signal: AbortSignal.timeout(init.timeoutMs),
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
  } catch (err) {
    // Only the cause's name: fetch's errors never carry the body, but say nothing more than needed.
    const cause = err instanceof Error ? err.name : 'error';
    throw new Error(`PSP ${init.method} ${path} failed (${cause})`);
  }
  const text = await boundedText(res, maxAnswerBytes).catch(() => '');
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, json };
}

async function boundedText(res: Response, limit: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > limit) throw new Error('answer too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string field of a PSP's answer, bounded (a PSP's free text never grows a row without limit). */
export const text = (v: unknown, max = 256): string | undefined => (typeof v === 'string' && v.length > 0 ? clipText(v, max) : undefined);

/**
 * A PSP's 3-D Secure page as the shopper's browser may be sent to it: an http(s) URL, nothing else.
 * The URL reaches the merchant's checkout page (the COPYandPAY widget follows it) and merchants'
 * own code: a `javascript:` or `data:` URL from a compromised or misconfigured PSP account would run
 * there, and one that is not a URL at all broke the forwarding page.
 */
export function shopperPageUrl(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 8000) return undefined;
  let url: URL;
  try { url = new URL(v); } catch { return undefined; }
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
}
