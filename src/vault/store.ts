import type { CardBrand } from './card.ts';

export interface StoredCard {
  id: string;
  merchantId: string;
  fingerprint: string;
  keyVersion: number;
  wrappedKey: string;
  panCiphertext: string;
  brand: CardBrand;
  bin: string;
  last4: string;
  holder: string | undefined;
  expiryMonth: string;
  expiryYear: string;
  createdAt: number;
}

export interface VaultStore {
  keyVersions(): Promise<{ version: number; sealedKey: string }[]>;
  /** Returns false when the version exists already (another node created it first). */
  addKeyVersion(version: number, sealedKey: string, at: number): Promise<boolean>;
  insertCard(card: StoredCard): Promise<void>;
  card(id: string): Promise<StoredCard | undefined>;
}
