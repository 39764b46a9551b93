import { randomBytes } from 'node:crypto';

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
  hex32: () => randomBytes(16).toString('hex'),
  shortId: () => {
    const n = randomBytes(8).readBigUInt64BE() % 1_000_000_000_000n;
    const d = n.toString().padStart(12, '0');
    return `${d.slice(0, 4)}.${d.slice(4, 8)}.${d.slice(8)}`;
  },
  secret: (bytes = 32) => randomBytes(bytes).toString('base64url'),
};
