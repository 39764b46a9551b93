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
  /**
   * Whether amounts go with their currency's own decimals (KWD 1.250), as this gateway's own /v1
   * takes them; by default at most two (KWD 1.25), the platform's documented format, and an
   * amount that needs the third is declined before it is sent.
   */
  readonly currencyDecimals?: boolean;
}

const allowedKeys = ['baseUrl', 'accessToken', 'entityId', 'currencyDecimals'];

/** The settings holding the acquirer's credential: sealed at rest, shown back masked. */
export const secretSettings = ['accessToken'] as const;

/**
 * Reads settings from untrusted JSON (admin API, CLI); returns the reason they are refused
 * otherwise. The error never repeats the token.
 */
export function parseSettings(input: unknown): Checked<OppSettings> {
  const o = settingsObject(input, allowedKeys, 'baseUrl, accessToken, entityId and currencyDecimals');
  if (!o.ok) return o;
  const baseUrl = baseUrlOf(o.value.baseUrl);
  if (!baseUrl.ok) return baseUrl;
  const accessToken = secretOf(o.value.accessToken, 'accessToken', 'the acquirer\'s bearer token (8 to 1024 printable characters, no spaces)');
  if (!accessToken.ok) return accessToken;
  const entityId = o.value.entityId;
  if (typeof entityId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(entityId)) {
    return { ok: false, error: 'entityId must be 1 to 64 letters, digits, "_" or "-"' };
  }
  const currencyDecimals = o.value.currencyDecimals ?? false;
  if (typeof currencyDecimals !== 'boolean') return { ok: false, error: 'currencyDecimals must be true or false (whether the acquirer takes KWD with three decimals)' };
  return { ok: true, value: { baseUrl: baseUrl.value, accessToken: accessToken.value, entityId, ...(currencyDecimals ? { currencyDecimals } : {}) } };
}
