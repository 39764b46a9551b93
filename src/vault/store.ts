import type { Tx } from '../storage/unit-of-work.ts';
import type { CardBrand, MaskedCard } from './card.ts';

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
  /** Set once the card number was erased (every instrument of it deleted): it can no longer be opened. */
  erasedAt?: number;
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
  /** Cards still carrying a merchant-independent fingerprint (written before fingerprints were per merchant). */
  legacyFingerprints(limit: number): Promise<{ id: string; merchantId: string; fingerprint: string }[]>;
  /** Replaces a legacy fingerprint with its per-merchant form; false when another node did it first. */
  scopeFingerprint(id: string, legacy: string, scoped: string): Promise<boolean>;
  /** How many cards each key version wraps (erased cards need none). */
  cardsPerVersion(): Promise<{ version: number; cards: number }[]>;
  /** Deleted instruments whose card is not yet erased, in the order they were deleted. */
  instrumentsAwaitingErasure(after: { deletedAt: number; id: string } | undefined, limit: number): Promise<{ id: string; cardId: string; deletedAt: number }[]>;
  /** Cards no instrument charges any more (a renewed registration's card before), not erased yet, in the order released. */
  releasedCards(after: { releasedAt: number; id: string } | undefined, limit: number): Promise<{ id: string; releasedAt: number }[]>;
  /** Marks deleted (as they are shown) one-time instruments made at or before `createdBefore` and never used; how many. */
  endLapsedTransients(createdBefore: number, at: number, limit: number): Promise<number>;
  /**
   * Blanks the card number's ciphertext and marks its deleted instruments; false while an
   * instrument of it is not deleted (nothing changed), or when it was erased already.
   */
  eraseCard(cardId: string, at: number, decoy: { keyVersion: number; wrappedKey: string }): Promise<boolean>;
}

export const instrumentStatuses = ['enabled', 'transient', 'deleted'] as const;
export type InstrumentStatus = (typeof instrumentStatuses)[number];

/** A vault instrument: a stored card that belongs to one holder of one merchant. */
export interface InstrumentRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly cardId: string;
  readonly holderReference: string;
  readonly status: InstrumentStatus;
  readonly futureUsage: string | undefined;
  readonly storeInstrument: boolean;
  /** Set for /v1 registrations: the entity (channel) that made it and alone may use it. */
  readonly entityId?: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The vault's writes inside a unit of work (a payment's intent, a registration, an instrument). */
export interface VaultWriter {
  insertCard(card: StoredCard): Promise<void>;
  insertInstrument(instrument: InstrumentRecord): Promise<void>;
  /** Moves the instrument to `status` unless it is there already (false then). */
  setInstrumentStatus(id: string, status: InstrumentStatus, at: number): Promise<boolean>;
  /**
   * Deletes an enabled instrument unless `chargedElsewhere` says a payment other than the one that
   * kept it has charged its card, answering the masked view of its card (for the event that tells of
   * it); undefined when it was not enabled, or was charged elsewhere. The instrument is held
   * (PostgreSQL: its row locked) before `chargedElsewhere` is asked, so a payment another transaction
   * records with it meanwhile is seen. The question is the payments' to answer: the vault keeps no
   * record of who charged a card.
   */
  deleteUnless(id: string, chargedElsewhere: (cardId: string) => Promise<boolean>, at: number): Promise<MaskedCard | undefined>;
  /** Points an enabled instrument at another stored card (the same card with new details); false when it is not enabled. */
  setInstrumentCard(id: string, cardId: string, at: number): Promise<boolean>;
  /**
   * Whether the instrument is still enabled, holding it (PostgreSQL: its row locked) until the
   * transaction ends: a delete waits for a payment that read it enabled.
   */
  holdEnabled(id: string): Promise<boolean>;
  /**
   * A transient instrument's end at its authorization: spent (`deleted`), or made a saved one
   * (`enabled`, `storeInstrument` asked with it). Only from `transient`: false when another
   * authorization spent or kept it first, so one transient instrument pays for one authorization.
   */
  endTransient(id: string, to: 'enabled' | 'deleted', at: number): Promise<boolean>;
  /**
   * The card an enabled instrument charges now (a registration renewed with a reissued card's
   * expiry points at its new card), held as `holdEnabled` holds it; undefined when not enabled.
   */
  heldCard(id: string): Promise<{ readonly cardId: string; readonly expiryMonth: string; readonly expiryYear: string } | undefined>;
}

export interface InstrumentStore {
  /** The vault's writer over the unit of work's transaction. */
  writer(tx: Tx): VaultWriter;
  instrument(id: string): Promise<InstrumentRecord | undefined>;
  /**
   * A holder's enabled (saved) instruments, newest first (created_at, then id), at most `limit`
   * (50 by default), after `after` (the last one of the previous page) where given.
   */
  byHolder(merchantId: string, holderReference: string, page?: { after?: { createdAt: number; id: string }; limit?: number }): Promise<InstrumentRecord[]>;
}

/** An RSA key pair for client-side encryption; the private half sealed (never stored in the clear). */
export interface TokenizationKeyRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly publicKey: string;
  readonly sealedPrivateKey: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export interface TokenizationKeyStore {
  insertKey(k: TokenizationKeyRecord): Promise<void>;
  key(id: string): Promise<TokenizationKeyRecord | undefined>;
  /** The merchant's key that expires last, if any. */
  freshestKey(merchantId: string): Promise<TokenizationKeyRecord | undefined>;
  /** Deletes every key (of any merchant) that expired before `before`; how many. */
  purgeExpired(before: number): Promise<number>;
}

/** Sealed security codes waiting for their one authorization (PostgreSQL clusters). */
export interface CvvHoldStore {
  put(key: string, sealed: string, expiresAt: number): Promise<void>;
  /** Deletes the hold and returns what it held, in one statement: only one caller gets it. */
  take(key: string): Promise<{ sealed: string; expiresAt: number } | undefined>;
  drop(key: string): Promise<void>;
  has(key: string, now: number): Promise<boolean>;
  /** Deletes holds that expired at or before `now`; returns how many. */
  purgeBefore(now: number): Promise<number>;
}
