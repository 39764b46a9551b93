import { baseUrlOf, secretOf, settingsObject, type Checked } from '../settings.ts';

/**
 * Settings of one PSP account at Adyen: the Checkout API's address (the test one unless a live
 * account gives its own prefix URL), the API key and merchant account the Customer Area issued,
 * and the HMAC key of the account's standard webhook.
 */
export interface AdyenSettings {
  /** Checkout API v71 base, without a trailing slash (e.g. `https://checkout-test.adyen.com/v71`). */
  readonly baseUrl: string;
  /** Sent as `X-API-Key`: a secret. */
  readonly apiKey: string;
  readonly merchantAccount: string;
  /** The webhook's HMAC key, hex as the Customer Area shows it: a secret. */
  readonly hmacKey: string;
  /**
   * Whether Adyen enabled multiple partial captures on the account (off unless set, as at Adyen).
   * Without them Adyen cancels what a partial capture leaves of the authorization; with them the
   * rest stays authorized until captured or cancelled.
   */
  readonly multiplePartialCaptures?: boolean;
}

export const adyenTestUrl = 'https://checkout-test.adyen.com/v71';
const allowedKeys = ['baseUrl', 'apiKey', 'merchantAccount', 'hmacKey', 'multiplePartialCaptures'];

/** The settings holding credentials: sealed at rest, shown back masked. */
export const secretSettings = ['apiKey', 'hmacKey'] as const;

/** Reads settings from untrusted JSON; the reason they are refused otherwise (never repeating a secret). */
export function parseSettings(input: unknown): Checked<AdyenSettings> {
  const o = settingsObject(input, allowedKeys, 'apiKey, merchantAccount and hmacKey');
  if (!o.ok) return o;
  const baseUrl = baseUrlOf(o.value.baseUrl ?? adyenTestUrl);
  if (!baseUrl.ok) return baseUrl;
  const apiKey = secretOf(o.value.apiKey, 'apiKey', 'the API key of an Adyen API credential (8 to 1024 printable characters, no spaces)');
  if (!apiKey.ok) return apiKey;
  const merchantAccount = o.value.merchantAccount;
  if (typeof merchantAccount !== 'string' || !/^[A-Za-z0-9_.-]{1,80}$/.test(merchantAccount)) {
    return { ok: false, error: 'merchantAccount must be the Adyen merchant account code (letters, digits, ".", "_" or "-")' };
  }
  const hmacKey = secretOf(o.value.hmacKey, 'hmacKey', 'the webhook\'s HMAC key in hex (32 to 128 bytes)', /^(?:[0-9A-Fa-f]{2}){32,128}$/);
  if (!hmacKey.ok) return hmacKey;
  const multiplePartialCaptures = o.value.multiplePartialCaptures ?? false;
  if (typeof multiplePartialCaptures !== 'boolean') {
    return { ok: false, error: 'multiplePartialCaptures must be true or false (whether Adyen enabled multiple partial captures on the account)' };
  }
  return { ok: true, value: { baseUrl: baseUrl.value, apiKey: apiKey.value, merchantAccount, hmacKey: hmacKey.value, multiplePartialCaptures } };
}
