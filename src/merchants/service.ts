import type { Tx } from '../storage/unit-of-work.ts';
import { createHash } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import { uuid, type Ids } from '../runtime/ids.ts';
import { credentialDialects, kindOfDialect, merchantNameProblem, normalizeOrigin, secretDigest, type CredentialDialect, type Entity, type Merchant } from './model.ts';
import type { MerchantStore } from './store.ts';

export interface MerchantCredentials {
  merchantId: string;
  entityId: string;
  accessToken: string;
  /** The same credential as the bearer token, for clients that send `authentication.userId` and `authentication.password`. */
  userId: string;
  password: string;
  clientId: string;
  apiKey: string;
  workspaceId: string;
}

/**
 * The secrets a rotation made: those of each dialect rotated, shown once. The client id, the
 * workspace and the entities stay: only the secrets change.
 */
export interface RotatedCredentials {
  merchantId: string;
  rotated: CredentialDialect[];
  /** /v1: the new bearer token, and the same secret as `authentication.userId` + `authentication.password`. */
  accessToken?: string;
  userId?: string;
  password?: string;
  /** executions: the client id (unchanged) and the new API key. */
  clientId?: string;
  apiKey?: string;
}

export interface MerchantService {
  /** Creates a merchant with one entity and returns its secrets; they are never shown again. */
  create(input: { name: string; live?: boolean; uniqueMerchantTransactionId?: boolean }, join?: (tx: Tx, merchantId: string) => Promise<void>): Promise<MerchantCredentials>;
  list(): Promise<{ merchant: Merchant; entities: Entity[] }[]>;
  /** The merchant a /v1 bearer token belongs to, if any. */
  byAccessToken(token: string): Promise<Merchant | undefined>;
  /** The merchant of a legacy `authentication.userId` + `authentication.password` pair: the bearer token's two halves. */
  byUserPassword(userId: string, password: string): Promise<Merchant | undefined>;
  /** The entity, only when it belongs to the merchant (another merchant's entity is "not found"). */
  entityOf(merchant: Merchant, entityId: string): Promise<Entity | undefined>;
  count(): Promise<number>;
  /** The merchant whose client id and API key (the executions dialect's client credentials) these are. */
  byClientCredentials(clientId: string, apiKey: string): Promise<Merchant | undefined>;
  byId(merchantId: string): Promise<Merchant | undefined>;
  /**
   * The merchant's entity for payments made through the executions dialect, created on first use:
   * a channel of its own, so that /v1 listeners never see those payments.
   */
  executionsEntity(merchant: Merchant): Promise<Entity>;
  /** Web origins whose pages may embed the secure fields and call browser tokenization. */
  origins(merchantId: string): Promise<string[]>;
  /** Registers an origin (see `normalizeOrigin`); returns the canonical form, or undefined when not an origin. */
  addOrigin(merchantId: string, origin: string): Promise<string | undefined>;
  removeOrigin(merchantId: string, origin: string): Promise<boolean>;
  /**
   * New secrets for the dialects named (both when none is), shown once. The old ones stop working
   * at once, with no overlap: the old /v1 token and API key are refused, and so is every executions
   * access token issued before. Undefined when there is no such merchant.
   */
  rotate(merchantId: string, dialects?: readonly CredentialDialect[], join?: (tx: Tx) => Promise<void>): Promise<RotatedCredentials | undefined>;
}

/** The platform's bearer token is base64 of "<user id>|<password>"; clients treat it as opaque. */
const accessTokenOf = (userId: string, password: string) => Buffer.from(`${userId}|${password}`, 'utf8').toString('base64');

/** Channel name of the entity that carries a merchant's executions-dialect payments. */
export const executionsChannel = 'executions';

export function createMerchantService(deps: { store: MerchantStore; clock: Clock; ids: Ids }): MerchantService {
  const { store, clock, ids } = deps;
  const newBearer = () => {
    const userId = ids.hex32();
    const password = ids.secret(18);
    return { userId, password, accessToken: accessTokenOf(userId, password) };
  };
  const newApiKey = () => ids.secret(32);
  return {
    async create({ name, live = false, uniqueMerchantTransactionId = false }, join) {
      const problem = merchantNameProblem(name);
      if (problem) throw new Error(`the merchant's name ${problem}`);
      const merchantId = ids.hex32();
      const { userId, password, accessToken } = newBearer();
      const apiKey = newApiKey();
      const merchant: Merchant = {
        id: merchantId, name, live, clientId: uuid(), workspaceId: uuid(), createdAt: clock.now(), tokenGeneration: 1,
      };
      const entity: Entity = {
        id: ids.hex32(), merchantId, channelName: `${name.replace(/\s+/g, '_')}_Channel`, uniqueMerchantTransactionId,
      };
      await store.insert({
        merchant, entity,
        credentials: [
          { digest: secretDigest(accessToken), kind: 'opp_bearer' },
          { digest: secretDigest(apiKey), kind: 'api_key' },
        ],
      }, join && ((tx) => join(tx, merchantId)));
      return { merchantId, entityId: entity.id, accessToken, userId, password, clientId: merchant.clientId, apiKey, workspaceId: merchant.workspaceId };
    },
    list: () => store.list(),
    byAccessToken: (token) => store.byCredential(secretDigest(token), 'opp_bearer'),
    // Only the token's digest is stored, and the pair rebuilds the token: one secret, two spellings.
    byUserPassword: async (userId, password) => userId.includes('|') ? undefined : store.byCredential(secretDigest(accessTokenOf(userId, password)), 'opp_bearer'),
    async entityOf(merchant, entityId) {
      const e = await store.entity(entityId);
      // The entity the executions dialect files its payments under is not one /v1 may name: its
      // lookups would show executions payments, and its payments would mix with them.
      return e && e.merchantId === merchant.id && e.channelName !== executionsChannel ? e : undefined;
    },
    count: () => store.count(),
    async byClientCredentials(clientId, apiKey) {
      const m = await store.byCredential(secretDigest(apiKey), 'api_key');
      return m && m.clientId === clientId ? m : undefined;
    },
    byId: (merchantId) => store.byId(merchantId),
    async executionsEntity(merchant) {
      const found = await store.entityByChannel(merchant.id, executionsChannel);
      if (found) return found;
      // A deterministic id: two nodes creating it at once insert the same row, and one of them no-ops.
      const id = createHash('sha256').update(`executions:${merchant.id}`).digest('hex').slice(0, 32);
      await store.insertEntity({ id, merchantId: merchant.id, channelName: executionsChannel, uniqueMerchantTransactionId: false }, clock.now());
      return (await store.entityByChannel(merchant.id, executionsChannel))!;
    },
    origins: (merchantId) => store.origins(merchantId),
    async addOrigin(merchantId, origin) {
      const canonical = normalizeOrigin(origin);
      if (canonical) await store.addOrigin(merchantId, canonical, clock.now());
      return canonical;
    },
    async removeOrigin(merchantId, origin) {
      const canonical = normalizeOrigin(origin);
      return canonical ? store.removeOrigin(merchantId, canonical) : false;
    },
    async rotate(merchantId, dialects = credentialDialects, join) {
      const which = credentialDialects.filter((d) => dialects.includes(d));
      if (which.length === 0) return undefined;
      const bearer = which.includes('opp') ? newBearer() : undefined;
      const apiKey = which.includes('executions') ? newApiKey() : undefined;
      const m = await store.replaceCredentials(merchantId, [
        ...(bearer ? [{ digest: secretDigest(bearer.accessToken), kind: kindOfDialect.opp }] : []),
        ...(apiKey ? [{ digest: secretDigest(apiKey), kind: kindOfDialect.executions }] : []),
      ], apiKey !== undefined, clock.now(), join);
      if (!m) return undefined;
      return { merchantId, rotated: which, ...(bearer ?? {}), ...(apiKey ? { clientId: m.clientId, apiKey } : {}) };
    },
  };
}
