/**
 * Row types of every table, as Kysely sees them. Timestamps are epoch milliseconds, money is minor
 * units, booleans are 0/1 and structured echoes are JSON text, so that SQLite and PostgreSQL hold
 * exactly the same values.
 */
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

export interface WebhookEndpointsTable {
  id: string;
  merchant_id: string;
  /** `opp` (/v1 notifications) or `executions`. */
  dialect: string;
  /** /v1 listeners belong to one entity; executions endpoints to the whole merchant. */
  entity_id: string | null;
  url: string;
  /** JSON array of notification types the endpoint wants; empty means all. */
  types: string;
  /** The key or signing secret, sealed under a key derived from the master key. */
  secret: string;
  /** During a rotation's overlap window: the old secret (sealed) and until when it is still used. */
  previous_secret: string | null;
  previous_secret_until: number | null;
  status: string;
  /** First failure since the last success; the endpoint is disabled when this gets too old. */
  failing_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  /** The outbox event's id (or the activation message's): stable across retries and redeliveries. */
  event_id: string;
  endpoint_id: string;
  merchant_id: string;
  event_type: string;
  /** The plaintext JSON to send (rendered once, so every retry sends the same notification). */
  body: string;
  status: string;
  attempts: number;
  /** Position on the dialect's retry ladder, counted from `ladder_start` (a redelivery restarts both). */
  retry_index: number;
  ladder_start: number;
  next_attempt_at: number;
  /** A worker's claim: nobody else sends this delivery before the lease runs out. */
  lease_until: number | null;
  lease_owner: string | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempted_at: number;
  http_status: number | null;
  latency_ms: number;
  error: string | null;
  /** The first few hundred characters of the receiver's answer, card numbers scrubbed. */
  excerpt: string | null;
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
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
