import { SignJWT, jwtVerify, errors } from 'jose';
import type { Clock } from '../runtime/clock.ts';

/** What the executions dialect's token endpoint returns (client-credentials grant). */
export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
}

export type TokenCheck =
  | { ok: true; merchantId: string }
  | { ok: false; reason: 'expired' | 'invalid' };

export interface AccessTokens {
  issue(merchantId: string): Promise<IssuedToken>;
  verify(token: string): Promise<TokenCheck>;
}

const issuer = 'switchyard';
const audience = 'switchyard-merchant';
const permissions = [
  'executions:create', 'executions:read', 'executions:list', 'executions:authorize', 'executions:capture',
  'executions:cancel', 'executions:refund', 'instruments:create', 'instruments:read', 'instruments:delete',
];

/**
 * Merchant access tokens: HS256 JWTs signed with a key derived from the master key, so every node
 * of a cluster verifies what any other issued, and a token signed with another key (another
 * installation's, a forged one) is refused. Lifetime one hour, measured on the injected clock.
 *
 * @example const { access_token } = await tokens.issue(merchant.id); (await tokens.verify(access_token)).ok === true
 */
export function createAccessTokens(deps: { key: Uint8Array; clock: Clock; lifetimeSeconds?: number }): AccessTokens {
  const lifetime = deps.lifetimeSeconds ?? 3600;
  return {
    async issue(merchantId) {
      const now = Math.floor(deps.clock.now() / 1000);
      const token = await new SignJWT({ permissions, scope: 'merchant' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(issuer).setAudience(audience).setSubject(merchantId)
        .setIssuedAt(now).setExpirationTime(now + lifetime)
        .sign(deps.key);
      return { access_token: token, token_type: 'Bearer', expires_in: lifetime };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, deps.key, {
          issuer, audience, algorithms: ['HS256'], currentDate: new Date(deps.clock.now()), requiredClaims: ['sub', 'exp'],
        });
        return { ok: true, merchantId: payload.sub! };
      } catch (err) {
        return { ok: false, reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
  };
}
