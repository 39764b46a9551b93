import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';

// Random bytes are drawn from the CSPRNG 4 KiB at a time: a randomBytes() call costs several
// microseconds whatever its size, and a payment needs about ten ids, an IV, a data key and a PSP
// reference. Each byte of the pool is handed out once; bytes handed out as a Buffer (key material)
// are wiped from the pool as they leave it.
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

function take(bytes: number): number {
  if (bytes > pool.length) throw new RangeError(`at most ${pool.length} random bytes at a time`);
  if (used + bytes > pool.length) { randomFillSync(pool); used = 0; }
  const at = used;
  used += bytes;
  return at;
}

/** Hex of `bytes` fresh random bytes. */
export function randomHex(bytes: number): string {
  const at = take(bytes);
  return pool.toString('hex', at, at + bytes);
}

/** `bytes` fresh random bytes in a Buffer of their own (keys, IVs); the pool keeps no copy. */
export function randomBuffer(bytes: number): Buffer {
  const at = take(bytes);
  const out = Buffer.alloc(bytes);
  pool.copy(out, 0, at, at + bytes);
  pool.fill(0, at, at + bytes);
  return out;
}

/** Id source injected so tests may make ids predictable. */
export interface Ids {
  /** 32 lowercase hex characters, time-ordered: the id form of the /v1 dialect (payments, entities, registrations). */
  hex32(): string;
  /** A short payment reference printed as `dddd.dddd.dddd`. */
  shortId(): string;
  /** An unguessable secret, base64url. */
  secret(bytes?: number): string;
}

/**
 * 12 hex digits of the clock (milliseconds) followed by 80 random bits. Ids made later sort later,
 * so a new row's key lands at the right edge of its table's and indexes' B-trees instead of on a
 * random page: a commit rewrites a few pages rather than one page per index per row, and the pages
 * an insert walks are the ones the last insert left in the cache. The /v1 dialect's reference
 * platform makes its ids the same way (a time part, then a random part). 80 random bits keep an id
 * that serves as a capability (a checkout's, in a shopper's browser) out of reach of guessing; what
 * the time part tells is when the thing was made, which its own record says anyway.
 */
export function timeOrderedHex32(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0').slice(-12);
  for (;;) {
    const id = time + randomHex(10);
    if (!readsAsDigits(id)) return id;
  }
}

/**
 * Whether an id holds thirteen decimal digits in a row (hyphens aside): what card-number screens and
 * log scrubbers look for, ours and a PSP's. About one random hex id in a hundred does, and one in
 * ten of those passes the Luhn check: masked as a card number, it would be redacted from every log
 * line, and a PSP that keeps our attempt id as its reference (and masks card numbers as we do)
 * would never find the charge by it again. Such an id is drawn again.
 */
export const readsAsDigits = (id: string): boolean => /[0-9]{13}/.test(id.includes('-') ? id.replaceAll('-', '') : id);

/** Hex of `bytes` fresh random bytes that never reads as a card number (see `readsAsDigits`): for references others see. */
export function referenceHex(bytes: number): string {
  for (;;) {
    const hex = randomHex(bytes);
    if (!readsAsDigits(hex)) return hex;
  }
}

/** A random UUID (v4) that never reads as a card number (see `readsAsDigits`). */
export function uuid(): string {
  for (;;) {
    const id = randomUUID();
    if (!readsAsDigits(id)) return id;
  }
}

export const randomIds: Ids = {
  hex32: () => timeOrderedHex32(),
  shortId: () => {
    const n = BigInt(`0x${randomHex(8)}`) % 1_000_000_000_000n;
    const d = n.toString().padStart(12, '0');
    return `${d.slice(0, 4)}.${d.slice(4, 8)}.${d.slice(8)}`;
  },
  secret: (bytes = 32) => randomBytes(bytes).toString('base64url'),
};
