/**
 * Row types of every table, as Kysely sees them. Timestamps are epoch milliseconds, money is minor
 * units, booleans are 0/1 and structured echoes are JSON text, so that SQLite and PostgreSQL hold
 * exactly the same values.
 */
import type { Generated } from 'kysely';
export interface MerchantsTable {
  id: string;
  name: string;
  live: number;
  client_id: string;
  workspace_id: string;
  created_at: number;
}

export interface EntitiesTable {
  id: string;
  merchant_id: string;
  channel_name: string;
  unique_merchant_tx: number;
  created_at: number;
}

export interface CredentialsTable {
  /** SHA-256 of the secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  merchant_id: string;
  kind: string;
  created_at: number;
}

export interface KeyVersionsTable {
  version: number;
  /** The key-encrypting key, sealed by the master key. */
  sealed_key: string;
  created_at: number;
}

export interface CardsTable {
  id: string;
  merchant_id: string;
  fingerprint: string;
  key_version: number;
  /** Per-record data key, wrapped by the key-encrypting key of `key_version`. */
  wrapped_key: string;
  /** The PAN, AES-256-GCM under the data key. */
  pan_ciphertext: string;
  brand: string;
  bin: string;
  last4: string;
  holder: string | null;
  expiry_month: string;
  expiry_year: string;
  created_at: number;
}

export interface PaymentsTable {
  id: string;
  merchant_id: string;
  entity_id: string;
  initial_type: string;
  status: string;
  currency: string;
  amount: number;
  card_id: string | null;
  /** `card` or `bank_transfer` (migration 002). */
  method: Generated<string>;
  mode: string;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface TransactionsTable {
  id: string;
  payment_id: string;
  /** Position within its payment: orders transactions made within the same millisecond. */
  seq: number;
  merchant_id: string;
  entity_id: string;
  type: string;
  status: string;
  amount: number;
  currency: string;
  result_code: string | null;
  psp_reference: string | null;
  referenced_id: string | null;
  merchant_transaction_id: string | null;
  short_id: string;
  /** The request parameters to echo (customer, billing, customParameters, …) as JSON. */
  echo: string;
  /** What the PSP reported beside the code (resultDetails) as JSON. */
  details: string;
  created_at: number;
  updated_at: number;
}

export interface RateHitsTable {
  key: string;
  at: number;
}

export interface OutboxTable {
  id: string;
  merchant_id: string;
  type: string;
  subject_id: string;
  payload: string;
  created_at: number;
  delivered_at: number | null;
}

export interface ChallengesTable {
  id: string;
  merchant_id: string;
  merchant_name: string;
  /** `3ds` (an issuer challenge) or `bank_transfer` (the shopper's bank confirming a transfer). */
  purpose: string;
  subject_kind: string;
  subject_id: string;
  amount: number;
  currency: string;
  /** What the page shows of the instrument: a masked card or a bank name. */
  instrument_label: string;
  /** JSON array of the origins the shopper may be sent back to (the page's form-action). */
  return_origins: string;
  status: string;
  created_at: number;
  expires_at: number;
  resolved_at: number | null;
}

export interface Database {
  merchants: MerchantsTable;
  entities: EntitiesTable;
  credentials: CredentialsTable;
  key_versions: KeyVersionsTable;
  cards: CardsTable;
  payments: PaymentsTable;
  transactions: TransactionsTable;
  rate_hits: RateHitsTable;
  outbox: OutboxTable;
  challenges: ChallengesTable;
}
