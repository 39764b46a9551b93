import { secretMatches } from '../runtime/bearer.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The session cookie: HTTP-only, Secure, SameSite=Strict. Its `__Host-` name makes the browser keep
 * it only as set by this host itself (Secure, `Path=/`, no Domain): a page of a sibling host
 * (another app under the same parent domain) cannot plant one of this name, so it cannot sign an
 * operator into a session of its choosing nor pre-set the sign-in token below.
 */
export const sessionCookie = '__Host-sy_dashboard';
/** The sign-in form's double-submit token (there is no session to bind it to yet). */
export const signInCookie = '__Host-sy_dashboard_signin';

/**
 * Scripts and styles from the dashboard's own files only (no inline code of any kind), no
 * framing, forms posting only back here.
 */
export const contentSecurityPolicy = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

export function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', contentSecurityPolicy)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cache-control', 'no-store');
}

export function cookieOf(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      // A value that does not decode was not set by the dashboard (a sibling app on the host may
      // set cookies): no cookie, so the visitor is asked to sign in rather than shown an error.
      try { return decodeURIComponent(part.slice(i + 1).trim()); } catch { return undefined; }
    }
  }
  return undefined;
}

export function setCookie(reply: FastifyReply, name: string, value: string, maxAgeSeconds: number): void {
  // `Path=/` is what a `__Host-` cookie must carry (the browser refuses it otherwise).
  const attrs = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`];
  // Fastify adds a set-cookie header to those already set (it never replaces them).
  reply.header('set-cookie', attrs.join('; '));
}

/** Timing-safe; an empty (or missing) value matches nothing, so a missing cookie is never matched by a crafted field. */
export const sameToken = (a: string | undefined, b: string | undefined): boolean => !!a && !!b && secretMatches(a, b);

/**
 * Whether a form post comes from a dashboard page: a browser names the page's origin (`Origin`)
 * and whether it is the same site (`Sec-Fetch-Site`); either, when sent, must say this origin.
 * This origin is the gateway's public address (`SWITCHYARD_PUBLIC_URL`) when one is set, else the
 * host the request names: a reverse proxy that passes its upstream's address as the host (nginx's
 * default) would otherwise make every post of the dashboard, sign-in first, look cross-site.
 * The CSRF token is checked besides: this refuses a cross-site post before anything is read.
 */
export function sameOriginPost(req: FastifyRequest, publicUrl?: string): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    const from = new URL(origin);
    if (publicUrl !== undefined && from.origin === new URL(publicUrl).origin) return true;
    return req.headers.host !== undefined && from.host === req.headers.host;
  } catch {
    return false;
  }
}

/** The form fields of a urlencoded body: the first value of each field (`allValues` reads a repeated one). */
export function formOf(req: FastifyRequest): Record<string, string> {
  const body = req.body;
  return body && typeof body === 'object' ? body as Record<string, string> : {};
}

const repeated = Symbol('repeated');

export function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> & { [repeated]?: Map<string, string[]> } = {};
  const all = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(body)) {
    if (!(k in out)) out[k] = v;
    all.set(k, [...(all.get(k) ?? []), v]);
  }
  out[repeated] = all;
  return out;
}

/** Every value of a repeated field (checkboxes). */
export const allValues = (form: Record<string, string>, name: string): string[] =>
  (form as { [repeated]?: Map<string, string[]> })[repeated]?.get(name) ?? [];
