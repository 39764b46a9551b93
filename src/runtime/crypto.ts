import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import { randomBuffer } from './ids.ts';

// Node turns a raw key Buffer into a key object on every cipher or HMAC it makes, and that costs
// several times the operation itself on a card-sized input (measured: HMAC-SHA256 of a PAN 34–50 µs
// with a Buffer key, 7–12 µs with a KeyObject). Long-lived keys (purpose keys, unwrapped data keys)
// are converted once; the cache holds them only as long as their Buffer lives.
const keyObjects = new WeakMap<Buffer, KeyObject>();
function keyObject(key: Buffer): KeyObject {
  let k = keyObjects.get(key);
  if (!k) { k = createSecretKey(key); keyObjects.set(key, k); }
  return k;
}

/** AES-256-GCM: returns base64url of iv(12) ‖ tag(16) ‖ ciphertext. `aad` binds the text to its context. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBuffer(12);
  const c = createCipheriv('aes-256-gcm', keyObject(key), iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
}

export function unseal(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64url');
  // The tag's length is fixed: told nothing, Node would check a tag cut to as little as 4 bytes (a
  // value shortened in the database would then need some 2^32 guesses to forge, not 2^128).
  if (raw.length < 28) throw new Error('sealed value too short');
  const d = createDecipheriv('aes-256-gcm', keyObject(key), raw.subarray(0, 12), { authTagLength: 16 });
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
}

/** Derives an independent purpose key from the master key, so one key never serves two uses. */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `switchyard:${purpose}`, 32));
}

/** Keyed fingerprint: finds the same card again without storing anything reversible. */
export function fingerprint(key: Buffer, value: string): string {
  return createHmac('sha256', keyObject(key)).update(value, 'utf8').digest('hex');
}

export function newDataKey(): Buffer {
  return randomBuffer(32);
}
