import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { uuid } from '../runtime/ids.ts';
import { promisify } from 'node:util';
import { compactDecrypt, errors as joseErrors } from 'jose';
import type { Clock } from '../runtime/clock.ts';
import { seal, unseal } from '../runtime/crypto.ts';
import type { TokenizationKeyStore } from './store.ts';

const generate = promisify(generateKeyPair);

/** The key browsers encrypt card data to: base64 DER SPKI, as client/init hands it out (reference §5.4). */
export interface PublicTokenizationKey {
  readonly id: string;
  readonly publicKey: string;
  readonly expiresAt: number;
}

export type DecryptResult =
  | { ok: true; plaintext: Uint8Array }
  | { ok: false; reason: 'unknown_key' | 'expired_key' | 'undecryptable' };

export interface TokenizationKeys {
  /**
   * The merchant's key with at least half its life left, creating one when it has none (an
   * RSA-2048 key pair takes ~50 ms). Keys are per merchant so that card data encrypted for one
   * merchant's page cannot be tokenized with another merchant's client token.
   */
  current(merchantId: string): Promise<PublicTokenizationKey>;
  /**
   * Opens a JWE compact serialization made with exactly `RSA-OAEP-256` + `A256CBC-HS512` (what the
   * public CSE library produces). Any other algorithm, a broken tag, an expired key or a key of
   * another merchant is refused.
   */
  decrypt(merchantId: string, keyId: string, jwe: string): Promise<DecryptResult>;
  /**
   * Deletes the keys that expired more than `keepExpiredMs` ago (a week): a merchant's page asks
   * for a new key every half lifetime, so the table would grow by two keys a day per merchant for
   * ever, each a sealed private key that opens nothing any more. Until then a card encrypted with
   * an expired key is refused as expired, after it as unknown. How many were deleted.
   */
  purgeExpired(): Promise<number>;
}

/**
 * RSA key pairs for client-side encryption, shared by every node through the store: the private
 * half is sealed with a key derived from the master key, so a database dump alone opens nothing.
 * A key is handed out for `lifetimeMs / 2` and accepted for its whole `lifetimeMs`.
 */
/** How long an expired key's row stays, so that what it encrypted is refused as expired rather than unknown. */
export const keepExpiredMs = 7 * 24 * 3600_000;

export function createTokenizationKeys(deps: { store: TokenizationKeyStore; sealingKey: Buffer; clock: Clock; lifetimeMs?: number }): TokenizationKeys {
  const { store, sealingKey, clock } = deps;
  const lifetime = deps.lifetimeMs ?? 24 * 3600_000;
  const opened = new Map<string, { key: KeyObject; merchantId: string; expiresAt: number }>();
  const creating = new Map<string, Promise<PublicTokenizationKey>>();
  /** Expired keys open nothing any more: their private halves leave memory (each merchant adds one every half lifetime). */
  function forgetExpired(now: number) {
    for (const [id, entry] of opened) if (entry.expiresAt <= now) opened.delete(id);
  }

  async function create(merchantId: string): Promise<PublicTokenizationKey> {
    const { publicKey, privateKey } = await generate('rsa', { modulusLength: 2048 });
    const id = uuid();
    const now = clock.now();
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    await store.insertKey({ id, merchantId, publicKey: spki, sealedPrivateKey: seal(sealingKey, pkcs8, `tokenization:${id}`), createdAt: now, expiresAt: now + lifetime });
    forgetExpired(now);
    opened.set(id, { key: privateKey, merchantId, expiresAt: now + lifetime });
    return { id, publicKey: spki, expiresAt: now + lifetime };
  }

  return {
    purgeExpired: () => store.purgeExpired(clock.now() - keepExpiredMs),
    async current(merchantId) {
      const now = clock.now();
      const found = await store.freshestKey(merchantId);
      if (found && found.expiresAt - now > lifetime / 2) return { id: found.id, publicKey: found.publicKey, expiresAt: found.expiresAt };
      // One generation per merchant and process at a time; two nodes may each make one, both stay valid.
      let pending = creating.get(merchantId);
      if (!pending) {
        pending = create(merchantId).finally(() => { creating.delete(merchantId); });
        creating.set(merchantId, pending);
      }
      return pending;
    },
    async decrypt(merchantId, keyId, jwe) {
      forgetExpired(clock.now());
      let entry = opened.get(keyId);
      if (!entry) {
        const row = await store.key(keyId);
        if (!row) return { ok: false, reason: 'unknown_key' };
        // Expired: refused without unsealing a key that opens nothing any more.
        if (row.merchantId === merchantId && row.expiresAt <= clock.now()) return { ok: false, reason: 'expired_key' };
        const der = unseal(sealingKey, row.sealedPrivateKey, `tokenization:${row.id}`);
        entry = { key: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }), merchantId: row.merchantId, expiresAt: row.expiresAt };
        opened.set(keyId, entry);
      }
      if (entry.merchantId !== merchantId) return { ok: false, reason: 'unknown_key' };
      if (entry.expiresAt <= clock.now()) {
        opened.delete(keyId);
        return { ok: false, reason: 'expired_key' };
      }
      try {
        const { plaintext } = await compactDecrypt(jwe, entry.key, {
          keyManagementAlgorithms: ['RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256CBC-HS512'],
        });
        return { ok: true, plaintext };
      } catch (err) {
        if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return { ok: false, reason: 'undecryptable' };
        throw err;
      }
    },
  };
}
