import { jsonAnswer, object, str, type JsonSchema, type RouteSchema } from '../runtime/json-schema.ts';

/** The admin API's routes (under /admin): one error shape, `{error: {code, message}}` (docs/errors.md). */

export const adminErrorSchema = object({
  error: object({ code: str('A stable code: unauthorized, not_found, bad_request, or the operation\'s own (invalid_types, endpoint_not_found…).'), message: str('What is wrong and what to do.') }, ['code', 'message']),
}, ['error']);
const err = (description: string) => jsonAnswer(description, adminErrorSchema);
const guarded = { 401: err('`unauthorized`: the operator token is missing or wrong.') };
const any = object({}, [], { additionalProperties: true });
const redelivered = object({ redelivered: { type: 'integer' }, waitingForEnable: { type: 'integer' } }, ['redelivered', 'waitingForEnable']);
const merchant = object({ merchantId: str('32 hex characters.') }, ['merchantId']);
const op = (summary: string, tags: string[], parts: Partial<RouteSchema>, ok: Record<string, ReturnType<typeof jsonAnswer>>, errors: Record<string, string> = {}): RouteSchema => ({
  summary, tags, security: ['operator'], ...parts,
  response: { ...ok, ...guarded, ...Object.fromEntries(Object.entries(errors).map(([s, d]) => [s, err(d)])) },
});
/** A string whose refusal keeps the route's own code and words (api-guard.ts reads them). */
const coded = (description: string, code: string, message: string): JsonSchema => ({ type: 'string', description, 'x-invalid-code': code, 'x-missing-code': code, 'x-message': message });
const list = (key: string, item: JsonSchema = any) => object({ [key]: { type: 'array', items: item } }, [key]);

/** A PSP account as the admin API shows it. */
const pspAccount = object({
  id: str('The account\'s id: what a payment search\'s `account` filter takes, and a payment\'s `pspAccountId`.'), name: str(), connector: str(), settings: { ...any, description: 'The connector\'s settings; credentials masked (`****` and the last four characters).' },
  timeoutMs: { type: ['integer', 'null'], description: 'The account\'s own request timeout; null: the gateway\'s.' },
  notificationUrl: { type: ['string', 'null'], description: 'Where the PSP must post its notifications (Adyen standard webhook, Stripe webhook endpoint): the account\'s inbound endpoint under SWITCHYARD_PUBLIC_URL (else the URL this call was made to). Null when the connector takes no notifications.' },
  circuit: { ...any, description: 'The circuit breaker as the answering node sees it: state (closed, open, half_open), consecutiveFailures, retryAt.' },
}, ['id', 'name', 'connector', 'settings', 'timeoutMs', 'notificationUrl', 'circuit'], { additionalProperties: true });

const endpoint = object({
  endpointId: str(), merchantId: str(), dialect: str('opp (the /v1 notifications) or executions.'), entityId: { type: ['string', 'null'], description: 'The /v1 entity whose notifications it takes; absent for executions.' },
  url: str(), types: { type: 'array', items: { type: 'string' }, description: 'The event types it takes; empty: all.' }, status: str('active or disabled.'),
  failingSince: str('Since when every delivery has failed (absent while deliveries succeed).'), previousSecretUntil: str('Until when the secret before the last rotation still signs (absent outside an overlap).'),
  createdAt: str(),
}, ['endpointId', 'merchantId', 'dialect', 'url', 'types', 'status', 'createdAt']);
/** A new endpoint: its id and its secret, shown this once. */
const endpointCreated = object({ endpointId: str(), secret: str('The /v1 decryption key (64 hex) or the executions signing secret; shown once.') }, ['endpointId', 'secret']);
const endpointParams = { params: object({ id: str() }, ['id']) };
const eventParams = { params: object({ eventId: str() }, ['eventId']) };

export const adminSchemas = {
  origins: op('A merchant\'s registered web origins (pages that may frame the secure fields)', ['merchants'], { params: merchant },
    { 200: jsonAnswer('The origins.', list('origins', { type: 'string' })) }, { 404: '`not_found`: no such merchant.' }),
  addOrigin: op('Register a web origin', ['merchants'], { params: merchant, body: object({ origin: { description: 'Required: a web origin such as https://shop.example (http only on loopback hosts), at most 255 characters.' } }) },
    { 201: jsonAnswer('Registered.', object({ origin: str() }, ['origin'])) }, { 400: '`bad_request`: not a web origin.', 404: '`not_found`.' }),
  removeOrigin: op('Remove a web origin', ['merchants'], { params: merchant, querystring: object({ origin: str('The origin to remove.') }, ['origin']) },
    { 200: jsonAnswer('Removed.', object({ removed: str() })) }, { 400: '`bad_request`: no origin named.', 404: '`not_found`: no such merchant or origin.' }),
  rotateCredentials: op('Rotate a merchant\'s credentials: new secrets, shown once; the old ones are refused at once', ['merchants'], {
    params: merchant,
    body: object({
      dialect: { ...coded('opp (the /v1 bearer token), executions (the API key; access tokens issued before are refused too) or both (default).', 'dialect_invalid', 'dialect must be opp, executions or both'), enum: ['opp', 'executions', 'both'] },
    }, [], { description: 'A JSON object, `{}` for both dialects.' }),
  }, {
    200: jsonAnswer('The new secrets of each dialect rotated (shown once, stored only as digests).', object({
      merchantId: str(), rotated: { type: 'array', items: { type: 'string', enum: ['opp', 'executions'] } },
      accessToken: str('/v1 bearer token.'), userId: str('/v1: the token\'s authentication.userId.'), password: str('/v1: the token\'s authentication.password.'),
      clientId: str('executions: the client id (unchanged).'), apiKey: str('executions: the new API key.'),
    }, ['merchantId', 'rotated'])),
  }, { 400: '`dialect_invalid`, or `bad_request` without a JSON object body.', 404: '`not_found`: no such merchant.' }),
  accounts: op('A merchant\'s PSP accounts', ['routing'], { params: merchant }, { 200: jsonAnswer('The accounts (credentials never shown).', list('accounts', pspAccount)) }, { 404: '`not_found`.' }),
  putAccount: op('Create or replace a PSP account', ['routing'], { params: object({ merchantId: str(), name: str() }, ['merchantId', 'name']), body: object({ connector: str(), settings: any }, [], { additionalProperties: true, description: 'Its fields are read by the workflows, which refuse one they do not know, naming it.' }) },
    { 200: jsonAnswer('The account.', pspAccount) }, { 400: '`bad_request`: the message names the setting.', 404: '`not_found`.' }),
  removeAccount: op('Remove a PSP account no workflow names and that holds no payment', ['routing'], { params: object({ merchantId: str(), name: str() }, ['merchantId', 'name']) },
    { 200: jsonAnswer('Removed.', object({ removed: str() })) }, { 404: '`not_found`: no such merchant or account.', 409: '`conflict`: a workflow still names the account, or it holds payments.' }),
  workflow: op('A workflow\'s cascade', ['routing'], { params: object({ merchantId: str(), code: str() }, ['merchantId', 'code']) },
    { 200: jsonAnswer('The workflow.', object({ code: str() }, ['code'])) }, { 404: '`not_found`.' }),
  configureWorkflow: op('Change a workflow\'s cascade', ['routing'], { params: object({ merchantId: str(), code: str() }, ['merchantId', 'code']), body: any },
    { 200: jsonAnswer('The workflow.', object({ code: str() }, ['code'])) }, { 400: '`bad_request`.', 404: '`not_found`.' }),
  endpoints: op('Webhook endpoints', ['webhooks'], { querystring: object({ merchantId: str() }) }, { 200: jsonAnswer('The endpoints.', list('endpoints', endpoint)) }),
  addEndpoint: op('Add a webhook endpoint', ['webhooks'], {
    // Checked by the webhook service, whose codes name each fault (merchant_not_found, invalid_types…).
    body: object({ merchantId: str('Required.'), dialect: str('Required: opp or executions.'), url: str('Required: https, public address.'), entityId: str('opp only: one entity.'), types: { description: 'An array of event types (all when absent); anything else is invalid_types.' } }),
  }, { 201: jsonAnswer('The endpoint\'s id, with its secret (shown once).', endpointCreated) }, { 400: 'The operation\'s code (invalid_url, invalid_types…).', 404: '`merchant_not_found` / `entity_not_found`.' }),
  endpoint: op('A webhook endpoint', ['webhooks'], endpointParams, { 200: jsonAnswer('The endpoint.', endpoint) }, { 404: '`endpoint_not_found`.' }),
  rotate: op('Rotate an endpoint\'s secret (the old one keeps working for overlapHours)', ['webhooks'], { ...endpointParams, body: object({ overlapHours: { description: 'Hours the old secret stays valid (default 24, at most 168).' } }) },
    { 200: jsonAnswer('The new secret, shown once.', object({ secret: str(), previousSecretUntil: str('Executions endpoints: until when the old secret still signs beside the new one. A /v1 key changes at once (absent).') }, ['secret'])) },
    { 400: '`invalid_argument`.', 404: '`endpoint_not_found`.' }),
  disable: op('Disable an endpoint', ['webhooks'], endpointParams, { 200: jsonAnswer('The endpoint.', endpoint) }, { 404: '`endpoint_not_found`.' }),
  enable: op('Enable an endpoint', ['webhooks'], endpointParams, { 200: jsonAnswer('The endpoint.', endpoint) }, { 404: '`endpoint_not_found`.' }),
  test: op('Send a test event to an endpoint', ['webhooks'], endpointParams, { 202: jsonAnswer('Queued.', any) }, { 400: 'The operation\'s code.', 404: '`endpoint_not_found`.' }),
  deliveries: op('The delivery log', ['webhooks'], {
    querystring: object({ merchantId: str(), endpointId: str(), eventId: str(), status: str('pending, delivered or failed.'), since: str('ISO 8601.'), limit: str('1..1000 (default 100).'), cursor: str('The `next` of the previous page.') }),
  }, { 200: jsonAnswer('Deliveries, newest first, and `next` when more follow.', list('deliveries')) }, { 400: '`bad_request`: the message names the parameter.' }),
  event: op('An event\'s deliveries', ['webhooks'], eventParams, { 200: jsonAnswer('The deliveries.', object({ eventId: str(), deliveries: { type: 'array' } }, ['eventId', 'deliveries'])) }, { 404: '`event_not_found`.' }),
  redeliverEvent: op('Deliver an event again', ['webhooks'], { ...eventParams, body: object({ endpointId: str() }) }, { 200: jsonAnswer('Queued: how many, and how many wait for a disabled endpoint to be enabled.', redelivered) }, { 400: 'The operation\'s code.', 404: '`event_not_found`.' }),
  redeliver: op('Deliver every failed delivery since a time again', ['webhooks'], { body: object({ since: str('Required, ISO 8601.'), endpointId: str(), merchantId: str() }) },
    { 200: jsonAnswer('How many were queued, and how many of them wait for a disabled endpoint to be enabled.', redelivered) }, { 400: '`bad_request`.' }),
  balances: op('Ledger balances per account and currency', ['ledger'], { querystring: object({ merchantId: str('Required (merchant_required).') }) },
    { 200: jsonAnswer('The balances.', object({ merchantId: str(), balances: { type: 'array' } }, ['merchantId', 'balances'])) }, { 400: '`merchant_required`.', 404: '`merchant_not_found`.' }),
  postings: op('A payment\'s ledger postings', ['ledger'], { params: object({ paymentId: str() }, ['paymentId']) },
    { 200: jsonAnswer('The postings (empty for a payment without any).', object({ paymentId: str(), postings: { type: 'array' } }, ['paymentId', 'postings'])) }),
  account: op('One PSP account, with its circuit as the answering node sees it', ['routing'], { params: object({ merchantId: str(), name: str() }, ['merchantId', 'name']) },
    { 200: jsonAnswer('The account (credentials masked), its `notificationUrl` and `circuit` (closed, open or half-open, per node).', pspAccount) },
    { 404: '`not_found`: no such merchant or PSP account.' }),
  export: op('Export the postings made in [from, to), as JSON or CSV', ['ledger'], {
    querystring: object({
      from: coded('An ISO date (2026-12-06 or 20261206) or date-time, or epoch milliseconds (10 digits or more).', 'from_invalid', 'from must be an ISO date (2026-12-06 or 20261206) or date-time, or epoch milliseconds (10 digits or more)'),
      to: coded('As `from`; at most 92 days after it (`window_invalid`).', 'to_invalid', 'to must be an ISO date (2026-12-06 or 20261206) or date-time, or epoch milliseconds (10 digits or more)'),
      format: { ...coded('json (default) or csv; given empty, json.', 'format_invalid', 'format must be csv or json'), enum: ['json', 'csv', ''] },
      merchantId: coded('Only this merchant\'s postings; given empty, every merchant\'s.', 'merchant_invalid', 'merchantId must be an id'),
    }, ['from', 'to']),
  }, { 200: { description: 'The postings.', content: { 'application/json': { schema: any }, 'text/csv': { schema: { type: 'string' } } } } },
  { 400: '`from_invalid`, `to_invalid`, `window_invalid`, `format_invalid` or `merchant_invalid`.' }),
  reconcile: op('Import a settlement report and reconcile it against the ledger', ['ledger'], {
    body: object({
      pspAccount: { ...coded('Required: the name of the PSP account the report is from.', 'psp_account_required', 'pspAccount is required'), minLength: 1 },
      merchantId: { ...coded('Which merchant\'s account, when several have that name.', 'merchant_invalid', 'merchantId must be an id'), minLength: 1 },
      report: { description: 'The report as the PSP sent it (`report_invalid` names what does not read).' },
    }, ['pspAccount'], { 'x-invalid-code': 'psp_account_required', 'x-message': 'pspAccount is required' }),
  }, {
    201: jsonAnswer('Imported and reconciled: the report, its matches and discrepancies.', any),
    200: jsonAnswer('The same report again: the earlier reconciliation.', any),
  }, { 400: '`psp_account_required`, `merchant_invalid` or `report_invalid`.', 404: '`psp_account_unknown`.', 409: '`psp_account_ambiguous`: name the merchant.', 422: '`report_account_mismatch` or `not_simulated`.' }),
  discrepancies: op('Reconciliation discrepancies', ['ledger'], {
    querystring: object({
      // Each given empty is one not given.
      status: { ...coded('open or resolved.', 'status_invalid', 'status must be open or resolved'), enum: ['open', 'resolved', ''] },
      merchantId: str(), reportId: str(),
      cursor: { description: 'The `next` of the previous page.' }, limit: { description: 'Page size, 1 to 1000 (default 1000).' },
    }),
  }, { 200: jsonAnswer('A page, oldest first; `next` is the cursor of the next one, absent on the last.', object({ discrepancies: { type: 'array', items: any }, next: str() }, ['discrepancies'])) },
  { 400: '`status_invalid`, `cursor_invalid`, `limit_invalid`.' }),
  resolve: op('Resolve an open discrepancy with the operator\'s note', ['ledger'], {
    params: object({ id: str() }, ['id']),
    body: object({
      note: { ...coded('Required: how it was resolved, at most 2000 characters.', 'note_required', 'note (at most 2000 characters) says how it was resolved'), minLength: 1, maxLength: 2000, pattern: '\\S' },
    }, ['note'], { 'x-invalid-code': 'note_required', 'x-message': 'note (at most 2000 characters) says how it was resolved' }),
  }, { 200: jsonAnswer('The resolved discrepancy.', any) }, { 400: '`note_required`.', 404: '`discrepancy_not_open`: no open discrepancy with this id.' }),
  payments: op('Search payments (the dashboard\'s list as JSON), newest first, a page at a time', ['payments'], {
    // Read by parseFilter, which the dashboard and the CLI share: it names the parameter at fault (`invalid_filter`).
    querystring: object({
      q: { description: 'Free text: an id, a reference, the last four digits… (at most 256 characters).' },
      merchant: { description: 'A merchant id.' }, status: { description: 'A payment status.' }, currency: { description: 'ISO 4217.' },
      outcome: { description: '`unknown`: only payments with an operation whose outcome is unknown (what the reconciler waits on); `pending`: only those with a capture, refund or void its PSP answered pending and has not finished.' },
      account: { description: 'A PSP account id (as the PSP accounts list shows it).' }, channel: { description: 'opp or executions.' },
      from: { description: 'A date (2026-05-01) or ISO instant, UTC.' }, to: { description: 'As from; inclusive for a date.' },
      min: { description: 'Amount in `currency` (needs it).' }, max: { description: 'Amount in `currency` (needs it).' },
      cursor: { description: 'The `next` of the previous page.' }, limit: { description: 'Page size, 1 to the maximum (default 50).' },
    }),
  }, { 200: jsonAnswer('A page; `next` is the cursor of the next one.', object({ payments: { type: 'array', items: any }, next: str() }, ['payments'])) },
  { 400: '`invalid_filter`: the message names the parameter.' }),
  payment: op('One payment\'s story: operations, attempts, 3-D Secure, webhooks, postings', ['payments'], { params: object({ id: str('32 hex characters.') }, ['id']) },
    { 200: jsonAnswer('The story.', object({ payment: any, operations: { type: 'array' }, postings: { type: 'array' } }, ['payment', 'operations'])) }, { 404: '`not_found`.' }),
} as const satisfies Record<string, RouteSchema>;

