import { baseUrlOf, secretOf, settingsObject, type Checked } from '../settings.ts';

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

const allowedKeys = ['baseUrl', 'accessToken', 'entityId'];

/** The settings holding the acquirer's credential: sealed at rest, shown back masked. */
export const secretSettings = ['accessToken'] as const;

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
  return { ok: true, value: { baseUrl: baseUrl.value, accessToken: accessToken.value, entityId } };
}
