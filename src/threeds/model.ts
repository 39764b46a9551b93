import type { CardBrand } from '../vault/card.ts';

/**
 * The 3-D Secure 2 simulator (reference §9.3): which flow each test card gets, what a finished
 * challenge yields, and the result codes of authentication that stops a payment. Pure.
 */

/** ARes/RReq transStatus: Y authenticated, A attempted, N not authenticated, U unavailable, R rejected. */
export type AuthenticationStatus = 'Y' | 'A' | 'N' | 'U' | 'R';

/** What 3-D Secure contributes to an authorization: the issuer's verdict and its ECI. */
export interface AuthenticationResult {
  readonly status: AuthenticationStatus;
  readonly eci: string | undefined;
  /** How it was reached: without shopper interaction, or through a challenge. */
  readonly flow: 'frictionless' | 'challenge';
}

export type AuthenticationPlan =
  /** The card takes no part in 3-D Secure on this request: authorize as a synchronous payment. */
  | { readonly kind: 'none' }
  | { readonly kind: 'frictionless'; readonly result: AuthenticationResult }
  | { readonly kind: 'challenge' }
  /** Authentication itself ends the payment for this reason; no PSP is asked. */
  | { readonly kind: 'refused'; readonly reason: AuthenticationRefusal; readonly status: AuthenticationStatus; readonly eci: string | undefined };

/** Why authentication ended a payment before any PSP: the issuer's 3-D Secure failed, or the card takes no part. */
export type AuthenticationRefusal = 'authentication_error' | 'not_enrolled' | 'not_participating';

type Row =
  | { flow: 'frictionless'; status: 'Y' | 'A' }
  | { flow: 'challenge' }
  | { flow: 'error' }
  | { flow: 'not_enrolled' }
  | { flow: 'not_participating' };

const row = (flow: Row['flow'], status?: 'Y' | 'A'): Row => (flow === 'frictionless' ? { flow, status: status! } : { flow } as Row);

/** The reference's 3DS2 simulator table, by card number. */
export const simulatorCards: ReadonlyMap<string, Row> = new Map<string, Row>([
  // Frictionless, method data Y / N: success (Y) and attempt (A).
  ...['4200000000000091', '5200000000000007', '6761301000993772', '374500262001008',
    '4200000000000026', '5200000000000056', '6799851000000032', '375987000000062'].map((p) => [p, row('frictionless', 'Y')] as const),
  ...['4200000000000109', '5200000000000023', '6706981111111113', '377277081382243',
    '4200000000000059', '5200000000000106', '6007930123456780', '373953192351004'].map((p) => [p, row('frictionless', 'A')] as const),
  ['4012001037461114', row('error')],
  ['4012001037141112', row('not_enrolled')],
  ['4532497088771651', row('not_participating')],
  // Challenge, method data Y / N, the mobile-SDK challenge cards, and the older guides' 3DS cards.
  ...['4200000000000042', '4200000000000067', '4200000000000018', '4200000000000075',
    '4012000000003119', '4012000000003127', '4711100000000000', '5386024192625914'].map((p) => [p, row('challenge')] as const),
]);

/** Mastercard's ECI values differ from the other schemes'. */
const mastercardFamily = new Set<CardBrand>(['MASTER', 'MAESTRO']);
export function eciOf(brand: CardBrand, status: AuthenticationStatus): string | undefined {
  const mc = mastercardFamily.has(brand);
  if (status === 'Y') return mc ? '02' : '05';
  if (status === 'A') return mc ? '01' : '06';
  if (status === 'N') return mc ? '00' : '07';
  return undefined;
}

/** The merchant's test-system switches (reference §7.5): `3DS2_enrolled`, `3DS2_flow`, `challengeIndicator`. */
export interface AuthenticationRequest {
  readonly enrolled: boolean | undefined;
  readonly flow: 'challenge' | 'frictionless' | undefined;
  /** `threeDSecure.challengeIndicator`; `04` asks the issuer for a challenge. */
  readonly challengeIndicator: string | undefined;
}

export const noAuthenticationRequest: AuthenticationRequest = { enrolled: undefined, flow: undefined, challengeIndicator: undefined };

/**
 * Which flow a card gets. Cards outside the table take no part unless the merchant says
 * `3DS2_enrolled=true`; `3DS2_enrolled=false` takes a table card out; `3DS2_flow` and a challenge
 * indicator of 04 steer an enrolled card (not the error rows, which model an issuer's failure).
 */
export function planAuthentication(pan: string, brand: CardBrand, req: AuthenticationRequest): AuthenticationPlan {
  if (req.enrolled === false) return { kind: 'none' };
  const known = simulatorCards.get(pan);
  const base: Row | undefined = known ?? (req.enrolled === true ? { flow: 'challenge' } : undefined);
  if (!base) return { kind: 'none' };
  const steerable = base.flow === 'frictionless' || base.flow === 'challenge';
  const wantsChallenge = req.flow === 'challenge' || /^0?4$/.test(req.challengeIndicator ?? '');
  const flow = steerable ? (wantsChallenge ? 'challenge' : req.flow ?? base.flow) : base.flow;
  switch (flow) {
    case 'challenge': return { kind: 'challenge' };
    case 'frictionless': {
      const status = base.flow === 'frictionless' ? base.status : 'Y';
      return { kind: 'frictionless', result: { status, eci: eciOf(brand, status), flow: 'frictionless' } };
    }
    case 'error': return { kind: 'refused', reason: 'authentication_error', status: 'U', eci: undefined };
    case 'not_enrolled': return { kind: 'refused', reason: 'not_enrolled', status: 'N', eci: eciOf(brand, 'A') };
    case 'not_participating': return { kind: 'refused', reason: 'not_participating', status: 'U', eci: undefined };
  }
}

/** How a shopper left a challenge page. */
export const challengeOutcomes = ['completed', 'failed', 'cancelled'] as const;
export type ChallengeOutcome = (typeof challengeOutcomes)[number];

/** Why a payment whose challenge did not succeed ends. */
export const challengeRefusals = {
  failed: 'authentication_failed',
  cancelled: 'cancelled_by_shopper',
  expired: 'expired',
} as const satisfies Readonly<Record<Exclude<ChallengeOutcome, 'completed'> | 'expired', string>>;

/** What a finished challenge contributes to the authorization. */
export function challengeResultOf(brand: CardBrand, outcome: ChallengeOutcome): AuthenticationResult {
  const status: AuthenticationStatus = outcome === 'completed' ? 'Y' : 'N';
  return { status, eci: eciOf(brand, status), flow: 'challenge' };
}

/** resultDetails entries describing an authentication (the platform's `3ds.*` keys). */
export function authenticationDetails(r: { status: AuthenticationStatus; eci: string | undefined; flow?: string }): Record<string, string> {
  return {
    '3ds.transactionStatus': r.status,
    ...(r.eci !== undefined ? { '3ds.acsEci': r.eci } : {}),
    ...(r.flow !== undefined ? { '3ds.flow': r.flow } : {}),
    '3ds.version': '2.2.0',
  };
}
