import { baseUrlOf, secretOf, settingsObject, type Checked } from '../settings.ts';

/** Settings of one PSP account at Stripe: its secret key and the signing secret of its webhook endpoint. */
export interface StripeSettings {
  /** `https://api.stripe.com` unless a test points elsewhere; without a trailing slash. */
  readonly baseUrl: string;
  /** `sk_test_…` or `sk_live_…` (or a restricted `rk_…` key): a secret. */
  readonly secretKey: string;
  /** The webhook endpoint's signing secret (`whsec_…`): a secret. */
  readonly webhookSecret: string;
}

const allowedKeys = ['baseUrl', 'secretKey', 'webhookSecret'];

/** The settings holding credentials: sealed at rest, shown back masked. */
export const secretSettings = ['secretKey', 'webhookSecret'] as const;

export function parseSettings(input: unknown): Checked<StripeSettings> {
  const o = settingsObject(input, allowedKeys, 'secretKey and webhookSecret');
  if (!o.ok) return o;
  const baseUrl = baseUrlOf(o.value.baseUrl ?? 'https://api.stripe.com');
  if (!baseUrl.ok) return baseUrl;
  const secretKey = secretOf(o.value.secretKey, 'secretKey', 'a Stripe secret key (sk_test_…, sk_live_… or rk_…)', /^(sk|rk)_(test|live)_[A-Za-z0-9]{8,250}$/);
  if (!secretKey.ok) return secretKey;
  const webhookSecret = secretOf(o.value.webhookSecret, 'webhookSecret', 'the webhook endpoint\'s signing secret (whsec_…)', /^whsec_[A-Za-z0-9+/=]{8,250}$/);
  if (!webhookSecret.ok) return webhookSecret;
  return { ok: true, value: { baseUrl: baseUrl.value, secretKey: secretKey.value, webhookSecret: webhookSecret.value } };
}
