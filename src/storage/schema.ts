/**
 * Row types of every table, as Kysely sees them. Timestamps are epoch milliseconds, money is minor
 * units, booleans are 0/1 and structured echoes are JSON text, so that SQLite and PostgreSQL hold
 * exactly the same values.
 */
import type { ColumnType, Generated } from 'kysely';
export interface MerchantsTable {
  id: string;
  name: string;
  live: number;
  client_id: string;
  workspace_id: string;
  created_at: number;
  /** Moves on when the executions credentials are rotated; access tokens of an earlier one are refused. */
  token_generation: Generated<number>;
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
  /** Keyed fingerprint of the PAN, scoped to the merchant (see `fingerprint_scope`). */
  fingerprint: string;
  /** 0: an older, merchant-independent fingerprint the vault has yet to re-derive; 1: per merchant. */
  fingerprint_scope: ColumnType<number, number | undefined, number>;
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
  /** When the card number was erased (its wrapped key and ciphertext blanked): every instrument of it was deleted. Null while held. */
  erased_at: ColumnType<number | null, number | null | undefined, number | null>;
  /** When no instrument charged it any more without its being deleted with one (a registration renewed onto a new card; migration 107). */
  released_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface PaymentsTable {
  id: string;
  merchant_id: string;
  /** The /v1 entity of an `opp` payment (migration 050: null for other channels). */
  entity_id: string | null;
  /** `opp` or `executions` (migration 050). */
  channel: Generated<string>;
  /** The PSP account holding the authorization; null: the gateway's default acquirer. */
  psp_account_id: string | null;
  workflow_code: string | null;
  /** The opening operation's kind (authorize, sale, credit). */
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
  /** When the expiry job found the authorization's hold closed (migration 070); null: still to look at. */
  hold_released_at: ColumnType<number | null, number | null | undefined, number | null>;
  receipt_settled_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface TransactionsTable {
  id: string;
  payment_id: string;
  /** Position within its payment: orders transactions made within the same millisecond. */
  seq: number;
  merchant_id: string;
  entity_id: string | null;
  /** The operation's kind in the engine's terms (capture, refund, …). */
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
  /** The neutral reason of a failure (migration 050). */
  reason: string | null;
  /** 1 on opening operations of entities that refuse duplicate merchant transaction ids (a unique index). */
  unique_mtx: number | null;
  unknown_since: number | null;
  created_at: number;
  updated_at: number;
}

export interface AttemptsTable {
  id: string;
  payment_id: string;
  transaction_id: string;
  seq: number;
  account_id: string;
  account_name: string;
  connector: string;
  authenticated: number;
  status: string;
  reason: string | null;
  result_code: string | null;
  psp_reference: string | null;
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
  /** W3C trace context of the request that caused the event (095); its deliveries send a child of it. */
  traceparent: string | null;
}

export interface InstrumentsTable {
  id: string;
  merchant_id: string;
  card_id: string;
  holder_reference: string;
  status: string;
  future_usage: string | null;
  store_instrument: number;
  /** The /v1 entity a registration was made on (migration 025); null for executions instruments. */
  entity_id: Generated<string | null>;
  created_at: number;
  updated_at: number;
  /** Set on a deleted instrument once its card was erased (migration 106). */
  card_erased_at: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface MerchantOriginsTable {
  merchant_id: string;
  /** A web origin (`https://shop.example`) whose pages may embed the secure fields and call tokenization. */
  origin: string;
  created_at: number;
}

export interface TokenizationKeysTable {
  id: string;
  /** The merchant whose client tokens may use it (null only in rows older than migration 100, which deleted them). */
  merchant_id: string | null;
  /** Base64 DER SPKI of the RSA public key browsers encrypt card data to. */
  public_key: string;
  /** The PKCS#8 private key, sealed with a key derived from the master key. */
  sealed_private_key: string;
  created_at: number;
  expires_at: number;
}

export interface PspAccountsTable {
  id: string;
  merchant_id: string;
  name: string;
  /** Which connector serves the account (migration 050). */
  connector: Generated<string>;
  /** The connector's settings for this account, as JSON; secret ones only masked once `secrets` is set. */
  settings: string;
  /** The secret settings as JSON, sealed under the vault's key ring (migration 075); null on rows not sealed yet. */
  secrets: string | null;
  /** The account's own PSP request timeout; null: the gateway's (migration 075). */
  timeout_ms: number | null;
  created_at: number;
  updated_at: number;
}

export interface WorkflowsTable {
  merchant_id: string;
  code: string;
  /** Cascade order and rules as JSON. */
  config: string;
  updated_at: number;
}

export interface ExecutionsTable {
  id: string;
  merchant_id: string;
  workflow_code: string;
  merchant_reference: string | null;
  holder_reference: string | null;
  workspace_id: string;
  meta: string;
  status: string;
  /** JSON array of {code, time, errors?}. */
  history: string;
  amount: number | null;
  currency: string | null;
  instrument_id: string | null;
  payment_id: string | null;
  /** The authorize request (amount, returnInfo, composition) as JSON. */
  authorize: string | null;
  /** The action the shopper must take (3-D Secure) as JSON. */
  action: string | null;
  /** JSON array of the actions requested on the execution (authorize, capture, ...) with their ids. */
  actions: string;
  capture_closed: number;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface IdempotencyKeysTable {
  merchant_id: string;
  key: string;
  operation: string;
  request_hash: string;
  state: string;
  response_status: number | null;
  response_body: string | null;
  created_at: number;
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
  /** JSON of the PSP's redirect when the PSP runs the challenge (url, method, parameters); null when the engine does. */
  psp_redirect: string | null;
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
  /** Operators' redeliveries so far: an attempt claimed under fewer leaves the latest one's ladder standing (102). */
  redeliveries: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
  /** What the event is about (`payment:<id>`, `execution:<id>`, ...): one endpoint gets these in order (095). */
  ordering_key: string | null;
  /** The event's position in the outbox, within its ordering key. */
  seq: number | null;
  traceparent: string | null;
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

/** One run of a periodic job, by the node that ran it (`owner`), from its claim to its end. */
export interface JobRunsTable {
  name: string;
  owner: string;
  started_at: number;
  /** The due time the run served (the job's `next_run_at` when it was claimed). */
  due_at: number;
  /** Unset while it runs, or for ever when its node died mid-run. */
  finished_at: number | null;
  error: string | null;
}

export interface JobsTable {
  /** e.g. `reconcile-payments`. */
  name: string;
  next_run_at: number;
  /** The node running the job while `lease_until` is set; the node that ran it last once cleared. */
  lease_owner: string | null;
  lease_until: number | null;
  last_started_at: number | null;
  last_finished_at: number | null;
  /** The last run's failure (scrubbed message); null after a success. */
  last_error: string | null;
  run_count: number;
}

/** A charge a PSP approved after the gateway ended its attempt, and its reversal (migration 098). */
export interface LateApprovalsTable {
  attempt_id: string;
  payment_id: string;
  merchant_id: string;
  account_id: string;
  /** The connector operation the PSP approved (authorize, sale, capture, ...). */
  operation: string;
  psp_reference: string | null;
  /** The payment's own PSP reference, which a refund of a late capture names. */
  original_reference: string | null;
  amount: number;
  currency: string;
  live: number;
  /** void, refund, or null when the gateway cannot undo it. */
  reversal: string | null;
  reversal_id: string;
  /** 1 from a try's send until the PSP says how it ended. */
  in_doubt: number;
  tried_at: number | null;
  /** Sends of the try under `reversal_id`. */
  sends: number;
  /** reversing (due at next_try_at), reversed (the PSP took it), operator (a person must act). */
  status: string;
  /** How many times the PSP refused the reversal. */
  refusals: number;
  next_try_at: number;
  /** The PSP's last answer to the reversal, or why it could not be sent. */
  last_result: string | null;
  found_at: number;
  updated_at: number;
}

/** One imported settlement report (migration 070); the id is a hash of its content. */
export interface SettlementReportsTable {
  id: string;
  psp_account_id: string;
  day: string;
  /** What the import found (counts, payouts), as JSON: returned again when the same report comes back. */
  summary: string;
  imported_at: number;
}

/** A disagreement between a settlement report and the ledger (migration 070). */
export interface SettlementDiscrepanciesTable {
  id: string;
  report_id: string;
  psp_account_id: string;
  merchant_id: string | null;
  kind: string;
  reference: string;
  payment_id: string | null;
  operation_id: string | null;
  currency: string;
  expected_amount: number | null;
  /** The ledger's currency where it is not `currency` (the report line's); null when the same (migration 109). */
  expected_currency: ColumnType<string | null, string | null | undefined, string | null>;
  reported_amount: number | null;
  /** The report line's fee and net where its net is not its gross less its fee; null otherwise (migration 114). */
  reported_fee: ColumnType<number | null, number | null | undefined, number | null>;
  reported_net: ColumnType<number | null, number | null | undefined, number | null>;
  /** `open` or `resolved`. */
  status: string;
  note: string | null;
  created_at: number;
  resolved_at: number | null;
}

/** One leg of a ledger transfer (migration 060); never updated or deleted. */
export interface PostingsTable {
  id: string;
  transfer_id: string;
  operation_id: string;
  payment_id: string;
  merchant_id: string;
  currency: string;
  psp_account_id: string;
  debit_account: string;
  credit_account: string;
  amount: number;
  phase: string;
  leg: number;
  created_at: number;
}

/** A sealed security code waiting for its one authorization (migration 092, PostgreSQL clusters). */
export interface CvvHoldsTable {
  key: string;
  sealed: string;
  expires_at: number;
}

/** A person who signs in to the dashboard (migration 080). */
export interface DashboardUsersTable {
  id: string;
  email: string;
  /** admin, operator or viewer. */
  role: string;
  /** Set: the user sees and acts on this merchant only. */
  merchant_id: string | null;
  password_hash: string;
  failed_sign_ins: Generated<number>;
  locked_until: number | null;
  created_at: number;
  updated_at: number;
}

export interface DashboardSessionsTable {
  token_hash: string;
  user_id: string;
  csrf_token: string;
  ip: string;
  created_at: number;
  seen_at: number;
  expires_at: number;
}

/** Who did what, when and from where (migration 080); never updated. */
export interface AuditLogTable {
  id: string;
  at: number;
  user_id: string | null;
  email: string;
  merchant_id: string | null;
  action: string;
  subject: string | null;
  /** ok, refused or failed. */
  outcome: string;
  /** JSON object: the action's parameters and result. */
  detail: string;
  ip: string;
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
  instruments: InstrumentsTable;
  psp_accounts: PspAccountsTable;
  workflows: WorkflowsTable;
  attempts: AttemptsTable;
  executions: ExecutionsTable;
  idempotency_keys: IdempotencyKeysTable;
  challenges: ChallengesTable;
  merchant_origins: MerchantOriginsTable;
  tokenization_keys: TokenizationKeysTable;
  jobs: JobsTable;
  job_runs: JobRunsTable;
  postings: PostingsTable;
  cvv_holds: CvvHoldsTable;
  settlement_reports: SettlementReportsTable;
  settlement_discrepancies: SettlementDiscrepanciesTable;
  checkouts: CheckoutsTable;
  dashboard_users: DashboardUsersTable;
  dashboard_sessions: DashboardSessionsTable;
  audit_log: AuditLogTable;
  late_approvals: LateApprovalsTable;
  simulator_answers: SimulatorAnswersTable;
}

/** Answers the simulated acquirer processed and lost on the way back, for any node's lookup (migration 115). */
export interface SimulatorAnswersTable {
  attempt_id: string;
  /** JSON: the neutral outcome it would have answered. */
  answer: string;
  created_at: number;
}

/** COPYandPAY checkouts (migration 085). */
export interface CheckoutsTable {
  id: string;
  merchant_id: string;
  entity_id: string;
  /** JSON: the checkout's validated /v1 parameters, replayed when the shopper pays. */
  params: string;
  /** JSON array: the registrations offered to the shopper for one-click payment. */
  registration_ids: string;
  status: string;
  payment_id: string | null;
  created_at: number;
  expires_at: number;
}
