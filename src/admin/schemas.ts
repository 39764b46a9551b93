import { jsonAnswer, object, str, type JsonSchema, type RouteSchema } from '../runtime/json-schema.ts';

/** The admin API's routes (under /admin): one error shape, `{error: {code, message}}` (docs/errors.md). */

export const adminErrorSchema = object({
  error: object({ code: str('A stable code: unauthorized, not_found, bad_request, or the operation\'s own (invalid_types, endpoint_not_found…).'), message: str('What is wrong and what to do.') }, ['code', 'message']),
}, ['error']);
const err = (description: string) => jsonAnswer(description, adminErrorSchema);
const guarded = { 401: err('`unauthorized`: the operator token is missing or wrong.') };
const any = object({}, [], { additionalProperties: true });
const merchant = object({ merchantId: str('32 hex characters.') }, ['merchantId']);
const op = (summary: string, tags: string[], parts: Partial<RouteSchema>, ok: Record<string, ReturnType<typeof jsonAnswer>>, errors: Record<string, string> = {}): RouteSchema => ({
  summary, tags, security: ['operator'], ...parts,
  response: { ...ok, ...guarded, ...Object.fromEntries(Object.entries(errors).map(([s, d]) => [s, err(d)])) },
});
const list = (key: string, item: JsonSchema = any) => object({ [key]: { type: 'array', items: item } }, [key]);

const endpoint = object({ id: str(), merchantId: str(), dialect: str(), url: str(), status: str() }, ['id']);
const endpointParams = { params: object({ id: str() }, ['id']) };
const eventParams = { params: object({ eventId: str() }, ['eventId']) };

export const adminSchemas = {
  origins: op('A merchant\'s registered web origins (pages that may frame the secure fields)', ['merchants'], { params: merchant },
    { 200: jsonAnswer('The origins.', list('origins', { type: 'string' })) }, { 404: '`not_found`: no such merchant.' }),
  addOrigin: op('Register a web origin', ['merchants'], { params: merchant, body: object({ origin: { description: 'Required: a web origin such as https://shop.example (http only on loopback hosts), at most 255 characters.' } }) },
    { 201: jsonAnswer('Registered.', object({ origin: str() }, ['origin'])) }, { 400: '`bad_request`: not a web origin.', 404: '`not_found`.' }),
  removeOrigin: op('Remove a web origin', ['merchants'], { params: merchant, querystring: object({ origin: str('The origin to remove.') }) },
    { 200: jsonAnswer('Removed.', object({ removed: str() })) }, { 404: '`not_found`: no such merchant or origin.' }),
  accounts: op('A merchant\'s PSP accounts', ['routing'], { params: merchant }, { 200: jsonAnswer('The accounts (credentials never shown).', list('accounts')) }, { 404: '`not_found`.' }),
  putAccount: op('Create or replace a PSP account', ['routing'], { params: object({ merchantId: str(), name: str() }, ['merchantId', 'name']), body: object({ connector: str(), settings: any }) },
    { 200: jsonAnswer('The account.', any) }, { 400: '`bad_request`: the message names the setting.', 404: '`not_found`.' }),
  removeAccount: op('Remove a PSP account no workflow names', ['routing'], { params: object({ merchantId: str(), name: str() }, ['merchantId', 'name']) },
    { 200: jsonAnswer('Removed.', object({ removed: str() })) }, { 404: '`not_found`.', 409: '`conflict`: no such account, or a workflow still names it.' }),
  workflow: op('A workflow\'s cascade', ['routing'], { params: object({ merchantId: str(), code: str() }, ['merchantId', 'code']) },
    { 200: jsonAnswer('The workflow.', object({ code: str() }, ['code'])) }, { 404: '`not_found`.' }),
  configureWorkflow: op('Change a workflow\'s cascade', ['routing'], { params: object({ merchantId: str(), code: str() }, ['merchantId', 'code']), body: any },
    { 200: jsonAnswer('The workflow.', object({ code: str() }, ['code'])) }, { 400: '`bad_request`.', 404: '`not_found`.' }),
  endpoints: op('Webhook endpoints', ['webhooks'], { querystring: object({ merchantId: str() }) }, { 200: jsonAnswer('The endpoints.', list('endpoints', endpoint)) }),
  addEndpoint: op('Add a webhook endpoint', ['webhooks'], {
    // Checked by the webhook service, whose codes name each fault (merchant_not_found, invalid_types…).
    body: object({ merchantId: str('Required.'), dialect: str('Required: opp or executions.'), url: str('Required: https, public address.'), entityId: str('opp only: one entity.'), types: { description: 'An array of event types (all when absent); anything else is invalid_types.' } }),
  }, { 201: jsonAnswer('The endpoint, with its secret (shown once).', endpoint) }, { 400: 'The operation\'s code (invalid_url, invalid_types…).', 404: '`merchant_not_found` / `entity_not_found`.' }),
  endpoint: op('A webhook endpoint', ['webhooks'], endpointParams, { 200: jsonAnswer('The endpoint.', endpoint) }, { 404: '`endpoint_not_found`.' }),
  rotate: op('Rotate an endpoint\'s secret (the old one keeps working for overlapHours)', ['webhooks'], { ...endpointParams, body: object({ overlapHours: { description: 'Hours the old secret stays valid (default 24).' } }) },
    { 200: jsonAnswer('The new secret.', any) }, { 400: '`invalid_argument`.', 404: '`endpoint_not_found`.' }),
  disable: op('Disable an endpoint', ['webhooks'], endpointParams, { 200: jsonAnswer('The endpoint.', endpoint) }, { 404: '`endpoint_not_found`.' }),
  enable: op('Enable an endpoint', ['webhooks'], endpointParams, { 200: jsonAnswer('The endpoint.', endpoint) }, { 404: '`endpoint_not_found`.' }),
  test: op('Send a test event to an endpoint', ['webhooks'], endpointParams, { 202: jsonAnswer('Queued.', any) }, { 400: 'The operation\'s code.', 404: '`endpoint_not_found`.' }),
  deliveries: op('The delivery log', ['webhooks'], {
    querystring: object({ merchantId: str(), endpointId: str(), eventId: str(), status: str('pending, delivered or failed.'), since: str('ISO 8601.'), limit: str('1..1000.') }),
  }, { 200: jsonAnswer('Deliveries, newest first.', list('deliveries')) }, { 400: '`bad_request`: the message names the parameter.' }),
  event: op('An event\'s deliveries', ['webhooks'], eventParams, { 200: jsonAnswer('The deliveries.', object({ eventId: str(), deliveries: { type: 'array' } }, ['eventId', 'deliveries'])) }, { 404: '`event_not_found`.' }),
  redeliverEvent: op('Deliver an event again', ['webhooks'], { ...eventParams, body: object({ endpointId: str() }) }, { 200: jsonAnswer('Queued.', any) }, { 400: 'The operation\'s code.', 404: '`event_not_found`.' }),
  redeliver: op('Deliver every failed delivery since a time again', ['webhooks'], { body: object({ since: str('Required, ISO 8601.'), endpointId: str(), merchantId: str() }) },
    { 200: jsonAnswer('How many were queued.', object({ redelivered: { type: 'integer' } }, ['redelivered'])) }, { 400: '`bad_request`.' }),
  balances: op('Ledger balances per account and currency', ['ledger'], { querystring: object({ merchantId: str('Required (merchant_required).') }) },
    { 200: jsonAnswer('The balances.', object({ merchantId: str(), balances: { type: 'array' } }, ['merchantId', 'balances'])) }, { 400: '`merchant_required`.' }),
  postings: op('A payment\'s ledger postings', ['ledger'], { params: object({ paymentId: str() }, ['paymentId']) },
    { 200: jsonAnswer('The postings (empty for a payment without any).', object({ paymentId: str(), postings: { type: 'array' } }, ['paymentId', 'postings'])) }),
} as const satisfies Record<string, RouteSchema>;

