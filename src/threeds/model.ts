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
  /** The merchant's own 3-D Secure server ran it (an external MPI), not the gateway's. */
  readonly byMerchant?: true;
  /** The protocol's version: the gateway's own server speaks 2.2.0; the merchant's says, if it does. */
  readonly version?: string;
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

/**
 * A 3-D Secure authentication the merchant ran with a server of its own (an external MPI): the
 * issuer's ECI and cryptogram, and the ids that tie the cryptogram to that authentication.
 */
export interface ExternalAuthentication {
  /** An ECI of an authenticated (05, 02) or attempted (06, 01) cardholder. */
  readonly eci: string;
  /** The issuer's cryptogram: Visa's CAVV, Mastercard's AAV, base64 or hex as the MPI gave it. */
  readonly authenticationValue: string;
  /** 3-D Secure 2: the directory server's transaction id. */
  readonly dsTransactionId?: string;
  /** 3-D Secure 1: the transaction's XID. */
  readonly xid?: string;
  readonly version?: string;
}

/** The ECIs of a cardholder the issuer authenticated (Y) or whose attempt it answered (A), by brand family. */
const statusOfEci: Readonly<Record<string, AuthenticationStatus>> = { '05': 'Y', '02': 'Y', '06': 'A', '01': 'A' };
export const externalEcis = Object.keys(statusOfEci);
/** The ECIs of an authentication of a card of `brand`: the Mastercard family's 02 and 01, every other scheme's 05 and 06. */
export const externalEcisOf = (brand: string): readonly string[] => ((mastercardFamily as ReadonlySet<string>).has(brand) ? ['02', '01'] : ['05', '06']);

/** What an external MPI's authentication contributes to the authorization, as the gateway's own would. */
export function externalResultOf(a: ExternalAuthentication): AuthenticationResult {
  return { status: statusOfEci[a.eci] ?? 'A', eci: a.eci, flow: 'frictionless', byMerchant: true, ...(a.version !== undefined ? { version: a.version } : {}) };
}

/** The merchant's test-system switches (reference §7.5): `3DS2_enrolled`, `3DS2_flow`, `challengeIndicator`; or its own MPI's result. */
export interface AuthenticationRequest {
  readonly enrolled: boolean | undefined;
  readonly flow: 'challenge' | 'frictionless' | undefined;
  /** `threeDSecure.challengeIndicator`; `04` asks the issuer for a challenge. */
  readonly challengeIndicator: string | undefined;
  /** Authenticated already by the merchant's own 3-D Secure server: nobody challenges the shopper again. */
  readonly external?: ExternalAuthentication;
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
export function authenticationDetails(r: { status: AuthenticationStatus; eci: string | undefined; flow?: string; version?: string; byMerchant?: true }): Record<string, string> {
  return {
    '3ds.transactionStatus': r.status,
    ...(r.eci !== undefined ? { '3ds.acsEci': r.eci } : {}),
    ...(r.flow !== undefined ? { '3ds.flow': r.flow } : {}),
    ...(r.byMerchant ? (r.version !== undefined ? { '3ds.version': r.version } : {}) : { '3ds.version': r.version ?? '2.2.0' }),
  };
}
