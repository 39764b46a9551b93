import { baseUrlOf, secretOf, settingsObject, timeoutOf, type Checked } from '../settings.ts';

export { defaultTimeoutMs } from '../settings.ts';

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
  /** How long one call may take before it is abandoned (the attempt then becomes unknown). */
  readonly timeoutMs: number;
}

const allowedKeys = ['baseUrl', 'accessToken', 'entityId', 'timeoutMs'];

/** The settings that are secrets (encrypted at rest, never shown back). */
export const secretFields = ['accessToken'] as const;

/**
 * Reads settings from untrusted JSON (admin API, CLI); returns the reason they are refused
 * otherwise. The error never repeats the token.
 */
export function parseSettings(input: unknown): Checked<OppSettings> {
  const o = settingsObject(input, allowedKeys, 'baseUrl, accessToken and entityId');
  if (!o.ok) return o;
  const baseUrl = baseUrlOf(o.value.baseUrl);
  if (!baseUrl.ok) return baseUrl;
  const accessToken = secretOf(o.value.accessToken, 'accessToken', 'the acquirer\'s bearer token (8 to 1024 printable characters, no spaces)');
  if (!accessToken.ok) return accessToken;
  const entityId = o.value.entityId;
  if (typeof entityId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(entityId)) {
    return { ok: false, error: 'entityId must be 1 to 64 letters, digits, "_" or "-"' };
  }
  const timeoutMs = timeoutOf(o.value.timeoutMs);
  if (!timeoutMs.ok) return timeoutMs;
  return { ok: true, value: { baseUrl: baseUrl.value, accessToken: accessToken.value, entityId, timeoutMs: timeoutMs.value } };
}
