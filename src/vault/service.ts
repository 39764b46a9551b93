import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import { Pan, type CardInput, type MaskedCard } from './card.ts';
import { deriveKey, fingerprint, newDataKey, seal, unseal } from '../runtime/crypto.ts';
import type { StoredCard, VaultStore } from './store.ts';
import { MasterKeyMismatchError, NoKeyRingError } from './errors.ts';
import type { MasterKey } from './keyring.ts';

/** A stored card opened for one PSP call: the PAN stays wrapped in its masking type. */
export interface OpenedCard extends MaskedCard {
  readonly pan: Pan;
}

export interface VaultService {
  /**
   * Encrypts the card into a record the caller inserts in its own transaction (so a payment's
   * intent and its card commit together); returns the record and the masked view.
   */
  sealCard(merchantId: string, card: CardInput): { record: StoredCard; masked: MaskedCard };
  masked(cardId: string): Promise<MaskedCard | undefined>;
  /** Decrypts the PAN for a PSP call; undefined when the card is unknown or was erased. */
  open(cardId: string): Promise<OpenedCard | undefined>;
  /** Reloads the key ring, picking up versions another process added (servers call it on a timer). */
  refreshKeys(): Promise<void>;
  /** Adds a new key-encrypting key version; new cards are sealed with it from now on. */
  rotate(): Promise<{ version: number }>;
  /** Re-wraps the data keys of cards on older versions with the current one; returns how many moved. */
  rewrapAll(batchSize?: number): Promise<number>;
  /**
   * A fresh random data key for card `cardId`, wrapped under the current version: what an erased
   * card keeps in place of the key that sealed its number, so that no copy of the old ciphertext
   * (a page SQLite has not overwritten, a row version PostgreSQL has not vacuumed, a backup) opens
   * with what the store holds, while a key rotation still finds a key it can re-wrap.
   */
  decoyKey(cardId: string): { keyVersion: number; wrappedKey: string };
  keyStatus(): Promise<{ current: number; versions: { version: number; cards: number }[] }>;
  /** The key versions this process holds unsealed (readiness: none means no card can be sealed or opened). */
  loadedKeyVersions(): number[];
  /** The card's keyed fingerprint: equal for equal card numbers at one merchant, unrelated across merchants. */
  fingerprintOf(cardId: string): Promise<string | undefined>;
  /**
   * Seals a credential (a PSP account's API key) under the current key version, bound to `context`
   * (where it is kept): `"<version>.<ciphertext>"`. Opening it under another context fails.
   */
  sealSecret(plaintext: string, context: string): string;
  openSecret(sealed: string, context: string): Promise<string>;
  /** The same secret sealed under the current key version; undefined when it is on it already. */
  resealSecret(sealed: string, context: string): Promise<string | undefined>;
}

const masked = (c: StoredCard): MaskedCard => ({
  id: c.id, brand: c.brand, bin: c.bin, last4: c.last4, holder: c.holder, expiryMonth: c.expiryMonth, expiryYear: c.expiryYear,
});

/**
 * Envelope encryption: each card has its own data key; the data key is wrapped by a versioned
 * key-encrypting key (KEK); KEKs are sealed by the master key. The associated data binds each
 * ciphertext to its card id, so swapping ciphertexts between rows fails to decrypt.
 */
const sealingKeyOf = (masterKey: Buffer) => deriveKey(masterKey, 'kek-seal');
const unsealKeyVersion = (sealingKey: Buffer, v: { version: number; sealedKey: string }) => unseal(sealingKey, v.sealedKey, `kek:${v.version}`);

/**
 * The first of a store's key versions that `masterKey` does not open, or undefined when it opens them
 * all: a restored copy is checked with it, without writing to it, before it is put in place.
 */
export function keyVersionNotOpened(masterKey: Buffer, versions: readonly { version: number; sealedKey: string }[]): number | undefined {
  const sealingKey = sealingKeyOf(masterKey);
  for (const v of versions) {
    try { unsealKeyVersion(sealingKey, v); } catch { return v.version; }
  }
  return undefined;
}

export async function createVaultService(deps: {
  store: VaultStore; clock: Clock; ids: Ids; masterKey: MasterKey;
  /**
   * `existing`: a store without card keys gets its first ones only under a master key the operator
   * gave or the data folder keeps, never under one made up now (NoKeyRingError): the CLI.
   */
  keyRing?: 'create' | 'existing';
}): Promise<VaultService> {
  const { store, clock, ids } = deps;
  const masterKey = deps.masterKey.key;
  const sealingKey = sealingKeyOf(masterKey);
  const fingerprintKey = deriveKey(masterKey, 'card-fingerprint');
  const merchantFingerprintKey = deriveKey(masterKey, 'card-fingerprint-merchant');
  /**
   * Per merchant: a keyed hash of the PAN, keyed again with the merchant's id, so the same card has
   * unrelated fingerprints at two merchants. The inner hash is what older rows stored, which lets
   * them be re-derived without decrypting a single card number.
   */
  const scoped = (merchantId: string, panFingerprint: string) => fingerprint(merchantFingerprintKey, `${merchantId}:${panFingerprint}`);
  const cardFingerprint = (merchantId: string, pan: string) => scoped(merchantId, fingerprint(fingerprintKey, pan));
  const keks = new Map<number, Buffer>();

  async function loadKeks() {
    for (const v of await store.keyVersions()) {
      let kek: Buffer;
      try { kek = unsealKeyVersion(sealingKey, v); } catch { throw new MasterKeyMismatchError(v.version); }
      keks.set(v.version, kek);
    }
  }
  await loadKeks();
  if (keks.size === 0 && deps.keyRing === 'existing' && deps.masterKey.fresh) throw new NoKeyRingError();
  if (keks.size === 0) {
    // The first key version is sealed under this master key: from now on the store needs it.
    deps.masterKey.keep();
    const kek = newDataKey();
    // Another node may have sealed it first, under its own master key: this start then fails below
    // (the key does not open the store's), leaving no file of a key that seals nothing.
    if (!await store.addKeyVersion(1, seal(sealingKey, kek, 'kek:1'), clock.now())) deps.masterKey.discard();
    keks.clear();
    await loadKeks();
  }
  const current = () => Math.max(...keks.keys());

  // Rows from before per-merchant fingerprints are re-derived once; several nodes may share the work.
  const tried = new Set<string>();
  for (;;) {
    const legacy = (await store.legacyFingerprints(500)).filter((c) => !tried.has(c.id));
    if (legacy.length === 0) break;
    for (const c of legacy) {
      tried.add(c.id);
      await store.scopeFingerprint(c.id, c.fingerprint, scoped(c.merchantId, c.fingerprint));
    }
  }

  async function kek(version: number): Promise<Buffer> {
    if (!keks.has(version)) await loadKeks();
    const k = keks.get(version);
    if (!k) throw new Error(`key version ${version} is not in the key ring`);
    return k;
  }

  async function open(cardId: string): Promise<OpenedCard | undefined> {
    const c = await store.card(cardId);
    if (!c || c.erasedAt !== undefined) return undefined;
    const dataKey = unseal(await kek(c.keyVersion), c.wrappedKey, `dek:${c.id}`);
    const pan = new Pan(unseal(dataKey, c.panCiphertext, `pan:${c.id}`).toString('utf8'));
    return { ...masked(c), pan };
  }

  function decoyKey(cardId: string) {
    const version = current();
    return { keyVersion: version, wrappedKey: seal(keks.get(version)!, newDataKey(), `dek:${cardId}`) };
  }

  function sealCard(merchantId: string, card: CardInput) {
      const id = ids.hex32();
      const version = current();
      const dataKey = newDataKey();
      const stored: StoredCard = {
        id, merchantId,
        fingerprint: cardFingerprint(merchantId, card.pan.reveal()),
        keyVersion: version,
        wrappedKey: seal(keks.get(version)!, dataKey, `dek:${id}`),
        panCiphertext: seal(dataKey, Buffer.from(card.pan.reveal(), 'utf8'), `pan:${id}`),
        brand: card.brand, bin: card.pan.bin, last4: card.pan.last4, holder: card.holder,
        expiryMonth: card.expiryMonth, expiryYear: card.expiryYear, createdAt: clock.now(),
      };
      return { record: stored, masked: masked(stored) };
  }

  async function rotate() {
    await loadKeks();
    for (;;) {
      const version = current() + 1;
      // Another node may claim the same number first; then its key is the new one and we go again.
      if (await store.addKeyVersion(version, seal(sealingKey, newDataKey(), `kek:${version}`), clock.now())) {
        await loadKeks();
        return { version };
      }
      await loadKeks();
    }
  }

  async function rewrapAll(batchSize = 500): Promise<number> {
    await loadKeks();
    const target = current();
    const kekTarget = await kek(target);
    let moved = 0;
    for (;;) {
      const batch = await store.cardsBelowVersion(target, batchSize);
      if (batch.length === 0) return moved;
      for (const c of batch) {
        // Only the data key's wrapping changes: the PAN's ciphertext stays as it is.
        const dataKey = unseal(await kek(c.keyVersion), c.wrappedKey, `dek:${c.id}`);
        if (await store.rewrap(c.id, c.keyVersion, target, seal(kekTarget, dataKey, `dek:${c.id}`))) moved++;
      }
    }
  }

  // Secrets are sealed under a key derived from each key version, never by the key that wraps data keys itself.
  const secretKey = (kekOfVersion: Buffer) => deriveKey(kekOfVersion, 'psp-secrets');
  const secretAad = (version: number, context: string) => `secret:${version}:${context}`;
  function sealSecret(plaintext: string, context: string): string {
    const version = current();
    return `${version}.${seal(secretKey(keks.get(version)!), Buffer.from(plaintext, 'utf8'), secretAad(version, context))}`;
  }
  async function openSecret(sealed: string, context: string): Promise<string> {
    const m = /^([0-9]+)\.([A-Za-z0-9_-]+)$/.exec(sealed);
    if (!m) throw new Error('not a sealed secret');
    const version = Number(m[1]);
    return unseal(secretKey(await kek(version)), m[2]!, secretAad(version, context)).toString('utf8');
  }

  return {
    sealCard,
    decoyKey,
    sealSecret,
    openSecret,
    async resealSecret(sealed, context) {
      await loadKeks();
      if (sealed.startsWith(`${current()}.`)) return undefined;
      return sealSecret(await openSecret(sealed, context), context);
    },
    async masked(cardId) {
      const c = await store.card(cardId);
      return c ? masked(c) : undefined;
    },
    open,
    refreshKeys: loadKeks,
    rotate,
    rewrapAll,
    loadedKeyVersions: () => [...keks.keys()],
    async keyStatus() {
      await loadKeks();
      return { current: current(), versions: await store.cardsPerVersion() };
    },
    async fingerprintOf(cardId) {
      return (await store.card(cardId))?.fingerprint;
    },
  };
}
