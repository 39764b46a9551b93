import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old a signed webhook may be before it is refused as a replay (Stripe's own default). */
export const toleranceSeconds = 300;

/** The `Stripe-Signature` header for a body signed at `t` (seconds): `t=…,v1=…`. */
export function signatureHeader(body: string, secret: string, t: number): string {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex')}`;
}

/** Whether a `Stripe-Signature` header signs this body with the endpoint's secret, within the tolerance. */
export function verifySignature(header: string | undefined, body: string, secret: string, nowSeconds: number): boolean {
  if (!header) return false;
  const parts = header.split(',').map((p) => p.split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex'), 'hex');
  // Any one v1 signature may match (Stripe sends several while a secret is being rolled).
  return parts.filter(([k]) => k === 'v1').some(([, v]) => {
    const given = Buffer.from(v ?? '', 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
