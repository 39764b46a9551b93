import { randomUUID } from 'node:crypto';
import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import { secretDigest, type Entity, type Merchant } from './model.ts';
import type { MerchantStore } from './store.ts';

export interface MerchantCredentials {
  merchantId: string;
  entityId: string;
  accessToken: string;
  clientId: string;
  apiKey: string;
  workspaceId: string;
}

export interface MerchantService {
  /** Creates a merchant with one entity and returns its secrets; they are never shown again. */
  create(input: { name: string; live?: boolean; uniqueMerchantTransactionId?: boolean }): Promise<MerchantCredentials>;
  list(): Promise<{ merchant: Merchant; entities: Entity[] }[]>;
  byId(merchantId: string): Promise<Merchant | undefined>;
  /** The merchant a /v1 bearer token belongs to, if any. */
  byAccessToken(token: string): Promise<Merchant | undefined>;
  /** The entity, only when it belongs to the merchant (another merchant's entity is "not found"). */
  entityOf(merchant: Merchant, entityId: string): Promise<Entity | undefined>;
  count(): Promise<number>;
}

export function createMerchantService(deps: { store: MerchantStore; clock: Clock; ids: Ids }): MerchantService {
  const { store, clock, ids } = deps;
  return {
    async create({ name, live = false, uniqueMerchantTransactionId = false }) {
      const merchantId = ids.hex32();
      // The platform's tokens are base64 of "<user id>|<password>"; clients treat them as opaque.
      const accessToken = Buffer.from(`${ids.hex32()}|${ids.secret(18)}`).toString('base64');
      const apiKey = ids.secret(32);
      const merchant: Merchant = {
        id: merchantId, name, live, clientId: randomUUID(), workspaceId: randomUUID(), createdAt: clock.now(),
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
      });
      return { merchantId, entityId: entity.id, accessToken, clientId: merchant.clientId, apiKey, workspaceId: merchant.workspaceId };
    },
    list: () => store.list(),
    byId: (merchantId) => store.byId(merchantId),
    byAccessToken: (token) => store.byCredential(secretDigest(token), 'opp_bearer'),
    async entityOf(merchant, entityId) {
      const e = await store.entity(entityId);
      return e && e.merchantId === merchant.id ? e : undefined;
    },
    count: () => store.count(),
  };
}
