import { randomBytes, randomFillSync } from 'node:crypto';

// Ids are drawn from the CSPRNG 4 KiB at a time: a randomBytes() call costs several microseconds
// whatever its size, and a payment makes about ten ids. Each byte of the pool is used once.
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

/** Hex of `bytes` fresh random bytes. */
export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) { randomFillSync(pool); used = 0; }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

/** Id source injected so tests may make ids predictable. */
export interface Ids {
  /** 32 lowercase hex characters: the id form of the /v1 dialect (payments, entities, registrations). */
  hex32(): string;
  /** A short payment reference printed as `dddd.dddd.dddd`. */
  shortId(): string;
  /** An unguessable secret, base64url. */
  secret(bytes?: number): string;
}

export const randomIds: Ids = {
  hex32: () => randomHex(16),
  shortId: () => {
    const n = BigInt(`0x${randomHex(8)}`) % 1_000_000_000_000n;
    const d = n.toString().padStart(12, '0');
    return `${d.slice(0, 4)}.${d.slice(4, 8)}.${d.slice(8)}`;
  },
  secret: (bytes = 32) => randomBytes(bytes).toString('base64url'),
};
