/**
 * The checks every HTTP connector's settings share: the object and its keys, the PSP's base URL
 * (https, or plain http on the loopback interface only: a secret and card data must not cross a
 * network in clear) and a secret's shape. Errors never repeat a secret. The call timeout is the
 * account's own (`ConnectorAccount.timeoutMs`), not a setting.
 */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The settings object with only `allowed` keys (a typo is refused, not ignored). */
export function settingsObject(input: unknown, allowed: readonly string[], required: string): Checked<Record<string, unknown>> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: `settings must be an object with ${required}` };
  }
  const o = input as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) return { ok: false, error: `unknown settings: ${unknown.slice(0, 5).join(', ')} (allowed: ${allowed.join(', ')})` };
  return { ok: true, value: o };
}

/** A PSP's base URL without its trailing slash. */
export function baseUrlOf(v: unknown, name = 'baseUrl'): Checked<string> {
  if (typeof v !== 'string' || v.length > 2048) return { ok: false, error: `${name} must be a URL` };
  let url: URL;
  try { url = new URL(v); } catch { return { ok: false, error: `${name} must be a URL` }; }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackHosts.has(url.hostname))) {
    return { ok: false, error: `${name} must use https (plain http only on the loopback interface)` };
  }
  if (url.username || url.password || url.search || url.hash) {
    return { ok: false, error: `${name} must not carry credentials, a query or a fragment` };
  }
  return { ok: true, value: `${url.origin}${url.pathname}`.replace(/\/+$/, '') };
}

/** A secret of printable characters without spaces; `what` says what it is, never its value. */
export function secretOf(v: unknown, name: string, what: string, pattern = /^[\x21-\x7e]{8,1024}$/): Checked<string> {
  if (typeof v !== 'string' || !pattern.test(v)) return { ok: false, error: `${name} must be ${what}` };
  return { ok: true, value: v };
}
