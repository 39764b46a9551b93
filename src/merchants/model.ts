import { createHash } from 'node:crypto';
import { hasControlCharacter } from '../runtime/control-characters.ts';
import { holdsCardNumber } from '../runtime/scrub.ts';

export interface Merchant {
  readonly id: string;
  readonly name: string;
  /** Live merchants' payments go to real acquirers and answer `000.000.000`; test ones to simulators. */
  readonly live: boolean;
  readonly clientId: string;
  readonly workspaceId: string;
  readonly createdAt: number;
  /**
   * Written into every executions access token; rotating the executions credentials moves it on,
   * and a token of an earlier generation is refused (it would otherwise outlive its API key).
   */
  readonly tokenGeneration: number;
}

/** A channel of a merchant: the `entityId` of the /v1 dialect. */
export interface Entity {
  readonly id: string;
  readonly merchantId: string;
  readonly channelName: string;
  /** When set, a second payment with the same merchantTransactionId is refused. */
  readonly uniqueMerchantTransactionId: boolean;
}

export const credentialKinds = ['opp_bearer', 'api_key'] as const;
export type CredentialKind = (typeof credentialKinds)[number];

/** Whose credentials a rotation replaces: the /v1 bearer token, the executions API key, or both. */
export const credentialDialects = ['opp', 'executions'] as const;
export type CredentialDialect = (typeof credentialDialects)[number];
export const isCredentialDialect = (s: unknown): s is CredentialDialect => typeof s === 'string' && (credentialDialects as readonly string[]).includes(s);
export const kindOfDialect: Readonly<Record<CredentialDialect, CredentialKind>> = { opp: 'opp_bearer', executions: 'api_key' };

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A web origin as a merchant registers it: scheme, host and port only. `https`, or `http` on a
 * loopback host (local development). Returns the canonical form or undefined.
 *
 * @example normalizeOrigin('https://Shop.example:443') === 'https://shop.example'
 */
export function normalizeOrigin(text: string): string | undefined {
  // Every page of the merchant's carries its origins in a header: a bound, at every door.
  if (text.length > 255) return undefined;
  let u: URL;
  try { u = new URL(text); } catch { return undefined; }
  if (u.origin === 'null' || u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return undefined;
  // A host name, an IPv4 address or a bracketed IPv6 one: the URL parser also takes `*`, `,` or `;`
  // in a host, and `https://*` in frame-ancestors lets every https page frame the card fields.
  if (!isHost(u.hostname)) return undefined;
  if (u.protocol === 'https:' || (u.protocol === 'http:' && loopbackHosts.has(u.hostname))) return u.origin;
  return undefined;
}

const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const hostPattern = new RegExp(`^(?:${label}(?:\\.${label})*|\\[[0-9a-f:.]+\\])$`);

/** A URL's hostname that names one host: a name, an IPv4 address or a bracketed IPv6 one (no `*`, `,`, `;`). */
export const isHost = (hostname: string): boolean => hostPattern.test(hostname);

/** Secrets are stored only as this digest; equal digests mean the same secret. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Why a merchant's name cannot be stored, or undefined. A name is shown on the dashboard, the 3-D
 * Secure page and every listing: a card number typed there by mistake would be kept and shown in
 * plain text, and a control character corrupts terminals and logs.
 */
export function merchantNameProblem(name: string): string | undefined {
  if (!name.trim()) return 'is empty';
  if (name.length > 200) return 'is longer than 200 characters';
  if (hasControlCharacter(name)) return 'holds a control character';
  if (holdsCardNumber(name, 'any')) return 'holds what looks like a card number; a name is never a card number';
  return undefined;
}
