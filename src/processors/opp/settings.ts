/**
 * Settings of one PSP account at an acquirer of the Open Payment Platform family: where its `/v1`
 * server-to-server API answers, and the entity and bearer token it issued to the merchant.
 */
export interface OppSettings {
  /** Origin (and optional path prefix) of the acquirer's API, without a trailing slash. */
  readonly baseUrl: string;
  /** The bearer token the acquirer issued: a secret, shown back only masked. */
  readonly accessToken: string;
  readonly entityId: string;
}

/** The settings holding the acquirer's credential: sealed at rest, shown back masked. */
export const secretSettings = ['accessToken'] as const;

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);
const allowedKeys = new Set(['baseUrl', 'accessToken', 'entityId']);

/**
 * Reads settings from untrusted JSON (admin API, CLI); returns the reason they are refused
 * otherwise. The error never repeats the token. Plain HTTP is refused except on the loopback
 * interface: a bearer token and card data must not cross a network in clear.
 */
export function parseSettings(input: unknown): { ok: true; value: OppSettings } | { ok: false; error: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'settings must be an object with baseUrl, accessToken and entityId' };
  }
  const o = input as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !allowedKeys.has(k));
  if (unknown.length > 0) return { ok: false, error: `unknown settings: ${unknown.slice(0, 5).join(', ')} (allowed: ${[...allowedKeys].join(', ')})` };

  if (typeof o.baseUrl !== 'string' || o.baseUrl.length > 2048) return { ok: false, error: 'baseUrl must be a URL' };
  let url: URL;
  try { url = new URL(o.baseUrl); } catch { return { ok: false, error: 'baseUrl must be a URL' }; }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackHosts.has(url.hostname))) {
    return { ok: false, error: 'baseUrl must use https (plain http only on the loopback interface)' };
  }
  if (url.username || url.password || url.search || url.hash) {
    return { ok: false, error: 'baseUrl must not carry credentials, a query or a fragment' };
  }

  if (typeof o.accessToken !== 'string' || !/^[\x21-\x7e]{8,1024}$/.test(o.accessToken)) {
    return { ok: false, error: 'accessToken must be the acquirer\'s bearer token (8 to 1024 printable characters, no spaces)' };
  }
  if (typeof o.entityId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(o.entityId)) {
    return { ok: false, error: 'entityId must be 1 to 64 letters, digits, "_" or "-"' };
  }
  const baseUrl = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  return { ok: true, value: { baseUrl, accessToken: o.accessToken, entityId: o.entityId } };
}
