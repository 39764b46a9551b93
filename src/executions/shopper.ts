import { isIP } from 'node:net';
import { holdsCardNumber } from '../runtime/scrub.ts';

/** A value of the merchant's meta as text for a PSP: text, a number or a flag, of a sane length and no card number. */
function textOf(v: unknown, max: number): string | undefined {
  const t = typeof v === 'string' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'boolean' ? String(v) : undefined;
  if (t === undefined || t === '' || t.length > max || /\p{Cc}/u.test(t) || holdsCardNumber(t, 'any')) return undefined;
  return t;
}

function objectOf(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

const whole = /^-?[0-9]{1,6}$/;
const flag = /^(true|false)$/;
/** The SDK's `clientContext` names, the engine's name of each (`customer.browser.*`), its length and, where it has one, its form. */
const browserNames: readonly [string, string, number, RegExp?][] = [
  ['acceptHeader', 'acceptHeader', 2048], ['userAgent', 'userAgent', 2048], ['language', 'language', 35],
  ['screenHeight', 'screenHeight', 6, whole], ['screenWidth', 'screenWidth', 6, whole], ['colorDepth', 'screenColorDepth', 3, whole],
  ['timeZoneOffset', 'timezone', 5, whole], ['javaEnabled', 'javaEnabled', 5, flag], ['javaScriptEnabled', 'javascriptEnabled', 5, flag],
];

/**
 * What an executions request tells of the shopper, under the engine's names (`customer.email`,
 * `customer.ip`, `customer.browser.*`), for the PSP's risk checks and the issuer's 3-D Secure 2
 * decision: the execution's `meta.customer.email` and `meta.clientContext` (client/init's IP address
 * and user agent), and the authorize request's `meta.clientContext`, where the SDK puts the shopper's
 * browser, which wins. What is not of the documented form is left out rather than refused: the
 * merchant's meta is free-form, and the payment does not depend on it.
 */
export function shopperContextOf(executionMeta: unknown, authorizeMeta: unknown): { customer?: Record<string, unknown> } {
  const fromExecution = objectOf(objectOf(executionMeta)?.clientContext);
  const fromAuthorize = objectOf(objectOf(authorizeMeta)?.clientContext);
  const browser: Record<string, string> = {};
  for (const [given, named, max, form] of browserNames) {
    const formed = (raw: unknown) => { const t = textOf(raw, max); return t !== undefined && (!form || form.test(t)) ? t : undefined; };
    const v = formed(fromAuthorize?.[given]) ?? formed(fromExecution?.[given]);
    if (v !== undefined) browser[named] = v;
  }
  const ipGiven = textOf(fromAuthorize?.ipAddress, 45) ?? textOf(fromExecution?.ipAddress, 45);
  const ip = ipGiven !== undefined && isIP(ipGiven) !== 0 ? ipGiven : undefined;
  const emailGiven = textOf(objectOf(objectOf(executionMeta)?.customer)?.email, 254);
  const email = emailGiven !== undefined && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(emailGiven) ? emailGiven : undefined;
  const customer = {
    ...(email !== undefined ? { email } : {}), ...(ip !== undefined ? { ip } : {}),
    ...(Object.keys(browser).length > 0 ? { browser } : {}),
  };
  return Object.keys(customer).length > 0 ? { customer } : {};
}
