import type { PostalAddress, Shopper, ShopperBrowser } from '../processors/connector.ts';

/**
 * The shopper and the statement text a payment's PSP is told, read from what the operation keeps:
 * `customer` (`email`, `ip`, `phone`, `givenName`, `surname`, `browser`), `billing` and `shipping`
 * (addresses) and `descriptor`. These are the engine's names for them; the `/v1` dialect keeps its
 * groups of the same names as sent, and the executions dialect writes what it is told of the
 * shopper under them. Values that are not text are left out.
 */
export function shopperOf(context: Readonly<Record<string, unknown>>, shopperPresent: boolean): Shopper | undefined {
  const customer = group(context.customer);
  const browser = shopperPresent ? picked<ShopperBrowser>(group(customer?.browser), browserNames) : undefined;
  const shopper: Shopper = {
    ...picked<Shopper>(customer, shopperPresent ? ['email', 'ip', 'phone', 'givenName', 'surname'] : ['email', 'phone', 'givenName', 'surname']),
    ...(browser ? { browser } : {}),
    ...address('billing', context.billing),
    ...address('shipping', context.shipping),
  };
  return Object.keys(shopper).length > 0 ? shopper : undefined;
}

/** The text the merchant asked for on the shopper's statement, if any. */
export function statementTextOf(context: Readonly<Record<string, unknown>>): string | undefined {
  return typeof context.descriptor === 'string' && context.descriptor.trim() !== '' ? context.descriptor : undefined;
}

const browserNames: readonly (keyof ShopperBrowser)[] = [
  'acceptHeader', 'userAgent', 'language', 'screenHeight', 'screenWidth', 'screenColorDepth', 'timezone', 'javaEnabled', 'javascriptEnabled', 'challengeWindow',
];
const addressNames: readonly (keyof PostalAddress)[] = ['street1', 'street2', 'city', 'state', 'postcode', 'country', 'givenName', 'surname'];

function group(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

function picked<T>(from: Readonly<Record<string, unknown>> | undefined, names: readonly string[]): T | undefined {
  if (!from) return undefined;
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = from[n];
    if (typeof v === 'string' && v.trim() !== '') out[n] = v;
  }
  return Object.keys(out).length > 0 ? out as T : undefined;
}

function address(name: 'billing' | 'shipping', v: unknown): { billing?: PostalAddress; shipping?: PostalAddress } {
  const a = picked<PostalAddress>(group(v), addressNames);
  return a ? { [name]: a } : {};
}
