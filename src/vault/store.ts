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
  /** Cards whose data key is wrapped by a key version older than `version`, oldest first. */
  cardsBelowVersion(version: number, limit: number): Promise<Pick<StoredCard, 'id' | 'keyVersion' | 'wrappedKey'>[]>;
  /** Replaces a card's wrapped data key if it is still wrapped by `fromVersion`; false when someone else moved it. */
  rewrap(id: string, fromVersion: number, toVersion: number, wrappedKey: string): Promise<boolean>;
  /** How many cards each key version wraps. */
  cardsPerVersion(): Promise<{ version: number; cards: number }[]>;
}
