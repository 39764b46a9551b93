/**
 * A COPYandPAY checkout: the merchant's backend prepares the payment (amount, type, shopper
 * details, registrations offered for one-click) and hands its id to the payment widget, which the
 * shopper pays it with. `open` until a payment claims it; a declined payment opens it again, so
 * the shopper may try another card. Pure rules only.
 */
export const checkoutStatuses = ['open', 'paid'] as const;
export type CheckoutStatus = (typeof checkoutStatuses)[number];
export const isCheckoutStatus = (s: string): s is CheckoutStatus => (checkoutStatuses as readonly string[]).includes(s);

/** The platform's checkout ids expire after 30 minutes. */
export const checkoutLifetimeMs = 30 * 60 * 1000;

/** 32 upper-case hex characters and a node suffix, in the shape of the platform's (`…C091.uat01-vm-tx03`). */
export const checkoutIdPattern = /^[0-9A-F]{32}\.sy01$/;
export const checkoutIdOf = (hex32: string) => `${hex32.toUpperCase()}.sy01`;

export interface CheckoutRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly entityId: string;
  /** The checkout's validated dialect parameters, as its dialect replays them when the shopper pays. */
  readonly params: Readonly<Record<string, string>>;
  readonly registrationIds: readonly string[];
  readonly status: CheckoutStatus;
  /** The checkout's latest payment (a declined one leaves the checkout open). */
  readonly paymentId: string | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** Whether a shopper may still pay the checkout. */
export function payable(c: Pick<CheckoutRecord, 'status' | 'expiresAt'>, now: number): 'ok' | 'expired' | 'paid' {
  if (c.status === 'paid') return 'paid';
  return now >= c.expiresAt ? 'expired' : 'ok';
}

/**
 * Whether the checkout's status call finds a session: a checkout with a payment always does; one
 * nobody paid stops existing for the merchant when it expires, as on the platform.
 */
export const sessionFound = (c: Pick<CheckoutRecord, 'paymentId' | 'expiresAt'>, now: number) => c.paymentId !== undefined || now < c.expiresAt;
