import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined. The scheme is matched in
 * any case and with any run of spaces after it (RFC 7235): clients send `bearer` as well.
 */
export const bearerTokenOf = (header: string | undefined): string | undefined => /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of a presented secret with the expected one (as digests: neither content nor length leaks). */
export const secretMatches = (presented: string, expected: string): boolean => timingSafeEqual(digest(presented), digest(expected));
