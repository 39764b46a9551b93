import type { Tx } from '../storage/unit-of-work.ts';
import type { CredentialKind, Entity, Merchant } from './model.ts';

export interface NewMerchant {
  merchant: Merchant;
  entity: Entity;
  credentials: { digest: string; kind: CredentialKind }[];
}

export interface MerchantStore {
  /** `join` writes in the same unit of work (a form's one-time key answered with the change). */
  insert(m: NewMerchant, join?: (tx: Tx) => Promise<void>): Promise<void>;
  list(): Promise<{ merchant: Merchant; entities: Entity[] }[]>;
  byCredential(digest: string, kind: CredentialKind): Promise<Merchant | undefined>;
  entity(entityId: string): Promise<Entity | undefined>;
  count(): Promise<number>;
  byId(merchantId: string): Promise<Merchant | undefined>;
  entityByChannel(merchantId: string, channelName: string): Promise<Entity | undefined>;
  /** False when the merchant has a channel of that name already (another request created it first). */
  insertEntity(entity: Entity, at: number): Promise<boolean>;
  origins(merchantId: string): Promise<string[]>;
  addOrigin(merchantId: string, origin: string, at: number): Promise<void>;
  /** False when the origin was not registered. */
  removeOrigin(merchantId: string, origin: string): Promise<boolean>;
  /**
   * In one transaction: deletes the merchant's credentials of each kind given and stores the new
   * digests in their place; with `newTokenGeneration`, moves the merchant's token generation on.
   * Returns the merchant as it is afterwards, or undefined (and changes nothing) when there is none.
   */
  replaceCredentials(merchantId: string, credentials: { digest: string; kind: CredentialKind }[], newTokenGeneration: boolean, at: number, join?: (tx: Tx) => Promise<void>): Promise<Merchant | undefined>;
}
