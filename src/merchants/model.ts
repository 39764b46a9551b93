import { createHash } from 'node:crypto';

export interface Merchant {
  readonly id: string;
  readonly name: string;
  /** Live merchants' payments go to real acquirers and answer `000.000.000`; test ones to simulators. */
  readonly live: boolean;
  readonly clientId: string;
  readonly workspaceId: string;
  readonly createdAt: number;
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

/** Secrets are stored only as this digest; equal digests mean the same secret. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
