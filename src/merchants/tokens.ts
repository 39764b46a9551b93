import { SignJWT, jwtVerify, errors } from 'jose';
import type { Clock } from '../runtime/clock.ts';

/** What the executions dialect's token endpoint returns (client-credentials grant). */
export interface IssuedToken {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
}

export type TokenCheck =
  | { ok: true; merchantId: string; generation: number }
  | { ok: false; reason: 'expired' | 'invalid' };

/** What a browser token from client/init allows: tokenizing cards for one holder, nothing else. */
export interface ClientScope {
  readonly merchantId: string;
  readonly holderReference: string;
  /** The tokenization key the browser encrypts to. */
  readonly keyId: string;
  readonly executionId?: string;
  /**
   * The merchant's token generation when the token was made: a rotation of the executions
   * credentials refuses the browser tokens made with the old ones, as it refuses access tokens.
   */
  readonly generation: number;
}

/**
 * A client token's check. An expired one still names its merchant (its signature was checked
 * before its time): the refusal must reach the merchant's page, which needs its CORS grant.
 */
export type ClientTokenCheck = { ok: true; scope: ClientScope } | { ok: false; reason: 'expired'; merchantId: string | undefined } | { ok: false; reason: 'invalid' };

export interface AccessTokens {
  /** `generation`: the merchant's token generation (a rotation of its API key moves it on). */
  issue(merchantId: string, generation: number): Promise<IssuedToken>;
  /** Merchant tokens only: a browser token is refused here. The caller compares `generation` with the merchant's. */
  verify(token: string): Promise<TokenCheck>;
  /** A short-lived browser token (client/init) scoped to tokenization for one holder. */
  issueClient(scope: ClientScope): Promise<{ token: string; expiresAt: number }>;
  verifyClient(token: string): Promise<ClientTokenCheck>;
}

const issuer = 'switchyard';
const audience = 'switchyard-merchant';
// A different audience: neither kind of token is accepted where the other is expected.
const clientAudience = 'switchyard-browser';
const clientPermissions = ['client:instruments:tokenize', 'client:instruments:create', 'client:instruments:read'];
const permissions = [
  'executions:create', 'executions:read', 'executions:list', 'executions:authorize', 'executions:capture',
  'executions:cancel', 'executions:refund', 'instruments:create', 'instruments:read', 'instruments:delete',
];

/**
 * Merchant access tokens: HS256 JWTs signed with a key derived from the master key, so every node
 * of a cluster verifies what any other issued, and a token signed with another key (another
 * installation's, a forged one) is refused. Lifetime one hour, measured on the injected clock.
 *
 * @example const { access_token } = await tokens.issue(merchant.id, merchant.tokenGeneration); (await tokens.verify(access_token)).ok === true
 */
export function createAccessTokens(deps: { key: Uint8Array; clock: Clock; lifetimeSeconds?: number; clientLifetimeSeconds?: number }): AccessTokens {
  const lifetime = deps.lifetimeSeconds ?? 3600;
  const clientLifetime = deps.clientLifetimeSeconds ?? 900;
  return {
    async issue(merchantId, generation) {
      const nowMs = deps.clock.now();
      // `exp` is in whole seconds and the token is refused once that second begins: rounded up, a
      // client that keeps the token for the `expires_in` it was given never holds an expired one.
      const token = await new SignJWT({ permissions, scope: 'merchant', gen: generation })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(issuer).setAudience(audience).setSubject(merchantId)
        .setIssuedAt(Math.floor(nowMs / 1000)).setExpirationTime(Math.ceil(nowMs / 1000) + lifetime)
        .sign(deps.key);
      return { access_token: token, token_type: 'Bearer', expires_in: lifetime };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, deps.key, {
          issuer, audience, algorithms: ['HS256'], currentDate: new Date(deps.clock.now()), requiredClaims: ['sub', 'exp'],
        });
        // A token without `gen` was issued before generations existed (at most one lifetime ago): generation 1.
        const gen = payload.gen === undefined ? 1 : payload.gen;
        if (typeof gen !== 'number' || !Number.isInteger(gen)) return { ok: false, reason: 'invalid' };
        return { ok: true, merchantId: payload.sub!, generation: gen };
      } catch (err) {
        return { ok: false, reason: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
    async issueClient(scope) {
      const now = Math.floor(deps.clock.now() / 1000);
      const token = await new SignJWT({
        permissions: clientPermissions, scope: 'client', holderReference: scope.holderReference, kid: scope.keyId, gen: scope.generation,
        ...(scope.executionId ? { executionId: scope.executionId } : {}),
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(issuer).setAudience(clientAudience).setSubject(scope.merchantId)
        .setIssuedAt(now).setExpirationTime(now + clientLifetime)
        .sign(deps.key);
      return { token, expiresAt: (now + clientLifetime) * 1000 };
    },
    async verifyClient(token) {
      try {
        const { payload } = await jwtVerify(token, deps.key, {
          issuer, audience: clientAudience, algorithms: ['HS256'], currentDate: new Date(deps.clock.now()), requiredClaims: ['sub', 'exp'],
        });
        const { holderReference, kid, executionId, gen } = payload as { holderReference?: unknown; kid?: unknown; executionId?: unknown; gen?: unknown };
        if (payload.scope !== 'client' || typeof holderReference !== 'string' || typeof kid !== 'string') return { ok: false, reason: 'invalid' };
        // Without `gen`: made before client tokens carried it (at most one lifetime ago), as access tokens: generation 1.
        const generation = gen === undefined ? 1 : gen;
        if (typeof generation !== 'number' || !Number.isInteger(generation)) return { ok: false, reason: 'invalid' };
        return { ok: true, scope: { merchantId: payload.sub!, holderReference, keyId: kid, generation, ...(typeof executionId === 'string' ? { executionId } : {}) } };
      } catch (err) {
        if (!(err instanceof errors.JWTExpired)) return { ok: false, reason: 'invalid' };
        // jose checks the signature before the times: the expired token's payload is its own.
        const sub = (err.payload as { sub?: unknown }).sub;
        return { ok: false, reason: 'expired', merchantId: typeof sub === 'string' ? sub : undefined };
      }
    },
  };
}
