import type { CredentialKind, Entity, Merchant } from './model.ts';

export interface NewMerchant {
  merchant: Merchant;
  entity: Entity;
  credentials: { digest: string; kind: CredentialKind }[];
}

export interface MerchantStore {
  insert(m: NewMerchant): Promise<void>;
  list(): Promise<{ merchant: Merchant; entities: Entity[] }[]>;
  byId(merchantId: string): Promise<Merchant | undefined>;
  byCredential(digest: string, kind: CredentialKind): Promise<Merchant | undefined>;
  entity(entityId: string): Promise<Entity | undefined>;
  count(): Promise<number>;
}
