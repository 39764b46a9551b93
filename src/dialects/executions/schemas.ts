import { emptyAnswer, jsonAnswer, object, str, type JsonSchema, type RouteSchema } from '../../runtime/json-schema.ts';
import { errorStatus } from './errors.ts';

/**
 * The executions dialect's routes: requests and answers as JSON Schema (docs/errors.md for
 * `errors[]`). Requests are validated with these schemas (after the bearer token and the
 * idempotency key); what a schema cannot say — a currency's decimals, an https return URL, the
 * card network of a number — is checked in parse.ts.
 */

/**
 * The dialect reads an optional field sent as `null` as absent: every field of a request schema
 * accepts null as well as its type.
 */
export function lenient(schema: JsonSchema): JsonSchema {
  const out: Record<string, unknown> = { ...schema };
  if (typeof out.type === 'string') out.type = [out.type, 'null'];
  if ('const' in out) { out.enum = [out.const, null]; delete out.const; }
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  if (out.properties) out.properties = Object.fromEntries(Object.entries(out.properties as Record<string, JsonSchema>).map(([k, v]) => [k, lenient(v)]));
  if (out.items) out.items = lenient(out.items as JsonSchema);
  return out;
}
/** The request body itself must be an object (an absent body is the handler's to judge). */
const requestBody = (schema: JsonSchema): JsonSchema => ({ ...lenient(schema), type: 'object' });

const errorItem = object({
  id: str('A unique id for this error; quote it to support (it is in the gateway\'s log line).'),
  code: { type: 'string', enum: Object.keys(errorStatus), description: 'request.* for the request, workflow.* for the action.' },
  detail: str('What is wrong, naming the field, and what to do.'),
  reason: object({}, [], { additionalProperties: { type: 'string' } }),
  meta: object({ requestId: str('The X-Request-Id of the refused request.') }),
}, ['id', 'code', 'detail']);
export const executionsError = object({ errors: { type: 'array', minItems: 1, items: errorItem } }, ['errors'], { description: 'The dialect\'s one error shape.' });
const err = (description: string) => jsonAnswer(description, executionsError);

const money = object({ value: str('Decimal string with the currency\'s decimals, such as "12.50".'), currency: str('ISO 4217.', { pattern: '^[A-Z]{3}$' }) }, ['value', 'currency']);
const uuid = str('A UUID.', { pattern: '^[0-9a-fA-F-]{36}$' });
/** An id in a path: a malformed one is answered as an unknown one (404), so the schema only describes it. */
const pathId = str('A UUID.');
const links = object({}, [], { additionalProperties: true });

const execution = object({
  id: str(), merchantReference: { type: ['string', 'null'] }, holderReference: { type: ['string', 'null'] }, holderId: { type: ['string', 'null'] }, workspaceId: str(),
  workflow: object({ code: str(), version: { type: 'integer' } }), createdAt: str(), meta: object({}), status: str('The execution\'s status (its last statusHistory code).'),
  statusHistory: { type: 'array', items: object({ code: str(), time: str(), errors: { type: 'array', items: errorItem } }, ['code', 'time']) },
  amount: money, authorizedAmount: money, capturedAmount: money, refundedAmount: money, actionRequired: str(), links,
}, ['id', 'status', 'statusHistory', 'links']);
const instrument = object({
  id: str(), createdAt: str(), updatedAt: str(), holderReference: str(), paymentMethod: { const: 'card' }, status: str(), fingerprint: str(),
  futureUsage: { type: ['string', 'null'] }, securityCodeHeld: { type: 'boolean' }, holderId: str(),
  data: object({ network: str(), bin: str(), suffix: str(), expiryMonth: str(), expiryYear: str(), holderName: { type: ['string', 'null'] } }),
}, ['id', 'status', 'data']);
const ack = object({ name: str(), actionId: str(), executedAt: str(), reason: str(), reasonDescription: str(), links }, ['name', 'actionId', 'executedAt', 'links']);

const workflowParams = object({ code: str('The workflow code, such as payment-acceptance.') }, ['code']);
const executionParams = object({ code: str('The workflow code.'), id: pathId }, ['code', 'id']);
const idempotencyKey = object({ 'x-idempotency-key': { ...uuid, description: 'Required on every write: a new UUID per intended change; a retry sends the same one.' } }, ['x-idempotency-key']);
const security = ['bearer'];
const common = {
  401: err('`request.unauthorized`: no token, or an expired or invalid one (the detail says which).'),
};
const writes = {
  ...common,
  400: err('`request.param.missing` / `request.param.invalid` naming the field; `request.header.missing` / `.invalid` for x-idempotency-key; `request.malformed` for a body that is not JSON.'),
  409: err('`request.conflict`: the idempotency key was used for a different request, or is still in progress.'),
};
const reasons = {
  reason: { type: 'string', enum: ['BetterPrice', 'CustomerDontNeed', 'DamagedProduct', 'Duplicate', 'FraudulentProduct', 'LateDelivery', 'NoReason', 'ProductMismatchDescription', 'WrongProduct', 'WrongProductSpecification'] },
  reasonDescription: str('Free text, at most 500 characters.', { maxLength: 500 }),
};
const action = (summary: string, body: JsonSchema): RouteSchema => ({
  summary, tags: ['executions'], security, params: executionParams, headers: idempotencyKey, body: requestBody(body),
  response: { 202: jsonAnswer('The action was accepted; its outcome shows in the execution\'s statusHistory.', ack), ...writes, 404: err('`request.not-found`.'), 422: err('`workflow.action.not-allowed`: the execution\'s status does not allow this action (the detail says why).') },
});

const cardData = object({
  cardNumber: str('12 to 19 digits (spaces and dashes allowed).', { maxLength: 23 }), expiryMonth: str('1 to 12.', { maxLength: 2 }),
  expiryYear: str('Two or four digits.', { maxLength: 4 }), securityCode: str('3 or 4 digits.', { maxLength: 4 }), holderName: str(undefined, { maxLength: 128 }),
}, ['cardNumber', 'expiryMonth', 'expiryYear']);

export const executionsSchemas = {
  token: {
    summary: 'An access token for a client (OAuth client credentials)', tags: ['authentication'], security: ['apiKey'],
    params: object({ clientId: str('The client id `merchants create` printed.') }, ['clientId']),
    // A missing key is answered as a wrong one (401 invalid_client), so the schema does not require it.
    headers: object({ 'x-api-key': str('The client\'s API key.') }),
    response: {
      200: jsonAnswer('The token.', object({ access_token: str(), token_type: str(), expires_in: { type: 'integer' } }, ['access_token'])),
      401: jsonAnswer('OAuth\'s own shape (RFC 6749 §5.2), as token endpoints answer.', object({ error: { const: 'invalid_client' }, error_description: str() }, ['error', 'error_description'])),
    },
  },
  create: {
    summary: 'Create an execution of a workflow', tags: ['executions'], security, params: workflowParams, headers: idempotencyKey,
    body: requestBody(object({ workspaceId: str(undefined, { maxLength: 64 }), merchantReference: str(undefined, { maxLength: 255 }), holderReference: str(undefined, { maxLength: 255 }), meta: object({}) })),
    response: { 201: jsonAnswer('The execution, status `created`.', execution), ...writes, 404: err('`request.not-found`: no such workflow.') },
  },
  list: {
    summary: 'List executions, newest first, a page at a time', tags: ['executions'], security, params: workflowParams,
    querystring: object({
      limit: str('1 to 100 (default 20).'), cursor: str('nextCursor of the previous page.'), 'filter[lastStatus]': str(), 'filter[merchantReference]': str(),
      'filter[holderReference]': str(), 'filter[workspaceId]': str(),
    }),
    response: {
      200: jsonAnswer('A page.', object({ results: { type: 'array', items: execution }, nextCursor: { type: ['string', 'null'] }, links }, ['results', 'nextCursor'])),
      ...common, 400: err('`request.param.invalid` naming the query parameter.'), 404: err('`request.not-found`: no such workflow.'),
    },
  },
  get: {
    summary: 'An execution; with waitWhile[status], held until its status leaves those', tags: ['executions'], security, params: executionParams,
    querystring: object({ 'waitWhile[status]': str('A status, or a JSON array of statuses, to wait out (long poll).') }),
    response: { 200: jsonAnswer('The execution.', execution), ...common, 400: err('`request.param.invalid`: waitWhile[status] is malformed.'), 404: err('`request.not-found`.') },
  },
  patch: {
    summary: "Change an execution's meta (until authorize completes)", tags: ['executions'], security, params: executionParams, headers: idempotencyKey,
    body: requestBody(object({ meta: object({}) }, ['meta'])),
    response: { 200: jsonAnswer('The execution.', execution), ...writes, 404: err('`request.not-found`.'), 422: err('`workflow.action.not-allowed`: meta is locked.') },
  },
  authorize: {
    summary: 'Authorize the payment of an execution', tags: ['executions'], security, params: executionParams, headers: idempotencyKey,
    description: 'The outcome arrives in the execution (poll with waitWhile[status]=authorizePending or use the webhooks); when 3-D Secure is needed, send the shopper to links.consumerWait.',
    body: requestBody(object({
      amount: money,
      returnInfo: object({ success: str(), cancel: str(), error: str(), pending: str() }, ['success'], { description: 'https URLs (http on loopback for test merchants).' }),
      paymentComposition: {
        type: 'array', minItems: 1, maxItems: 1,
        items: object({
          paymentMethodCode: { const: 'card' }, integrationType: { const: 'api' }, amount: money, storeInstrument: { type: 'boolean' }, paymentInstrumentId: uuid,
          paymentInstrumentData: object({
            encryptedData: str('The card encrypted in the browser (JWE, RSA-OAEP-256 + A256CBC-HS512) to the public key from client/init.'),
            vaultProviderConfigId: str('The `vaultConfiguration.providerConfigId` client/init answered with: the key it was encrypted to.'),
          }, ['encryptedData', 'vaultProviderConfigId'], { description: 'Instead of paymentInstrumentId: a card encrypted in the browser, stored as an ephemeral instrument of the execution\'s holder.' }),
        }, ['paymentMethodCode']),
      },
      meta: object({}),
    }, ['amount', 'returnInfo', 'paymentComposition'])),
    response: { 200: jsonAnswer('Accepted; links.consumerWait is where the shopper goes while it completes.', ack), ...writes, 404: err('`request.not-found`.'), 422: err('`workflow.action.not-allowed`.') },
  },
  // Strict: an absent amount means "all of it", so a misspelt one must be refused, never ignored.
  capture: action('Capture an authorized execution', object({ amount: money, final: { type: 'boolean' }, ...reasons, meta: object({}) }, [], { additionalProperties: false })),
  refund: action('Refund captured money', object({ amount: money, ...reasons, paymentId: str(), meta: object({}) }, [], { additionalProperties: false })),
  cancel: action('Void an authorization', object({ ...reasons, meta: object({}) }, [], { additionalProperties: false })),
  createInstrument: {
    summary: 'Store a card as an instrument (server-side)', tags: ['instruments'], security, headers: idempotencyKey,
    body: requestBody(object({ holderReference: str(undefined, { maxLength: 255 }), paymentMethod: { const: 'card' }, futureUsage: { enum: ['CardOnFile', 'Subscription', 'UnscheduledCardOnFile'] }, storeInstrument: { type: 'boolean' }, data: cardData }, ['holderReference', 'data'])),
    response: { 201: jsonAnswer('The instrument (masked card).', instrument), ...writes },
  },
  getInstrument: {
    summary: 'An instrument', tags: ['instruments'], security, params: object({ id: pathId }, ['id']),
    response: { 200: jsonAnswer('The instrument.', instrument), ...common, 404: err('`request.not-found`.') },
  },
  deleteInstrument: {
    summary: 'Delete an instrument', tags: ['instruments'], security, params: object({ id: pathId }, ['id']), headers: idempotencyKey,
    response: { 200: jsonAnswer('Deleted.', object({ success: { const: true } }, ['success'])), ...writes, 404: err('`request.not-found`.') },
  },
  clientInit: {
    summary: 'Start browser tokenization: a client token and the tokenization key', tags: ['browser'], security, headers: idempotencyKey,
    body: requestBody(object({ type: { enum: ['secureFields', 'tokenization', 'dropIn'] }, holderReference: str(), workspaceId: str(), workflowCode: str(), merchantReference: str(), amount: money, meta: object({}) }, ['holderReference'])),
    response: { 200: jsonAnswer('`data` is base64 of the configuration the browser SDK reads.', object({ version: str(), data: str() }, ['version', 'data'])), ...writes },
  },
  preflight: {
    summary: 'CORS preflight of the browser endpoints', tags: ['browser'],
    response: { 204: emptyAnswer('Allowed methods and headers; the origin is checked on the real request.') },
  },
  tokenize: {
    summary: 'Tokenize a card encrypted in the browser (the CSE library\'s call)', tags: ['browser'], security: ['clientToken'],
    body: requestBody(object({ id: str(), encryptedInstrumentDetails: str('The JWE of the card.', { maxLength: 8192 }), holderReference: str(), storeInstrument: { type: 'boolean' }, futureUsage: str() }, ['encryptedInstrumentDetails'])),
    response: { 201: jsonAnswer('The instrument.', instrument), ...common, 400: err('`request.param.*`.'), 403: err('`request.forbidden`: origin not registered, or another holder.'), 429: err('`request.rate-limit`.') },
  },
  saveInstrument: {
    summary: 'Save the card the secure fields encrypted', tags: ['browser'], security: ['clientToken'],
    body: requestBody(object({ paymentMethod: { const: 'card' }, data: object({ encryptedData: str('The JWE of the card.', { maxLength: 8192 }) }, ['encryptedData']), holderReference: str(), storeInstrument: { type: 'boolean' }, futureUsage: str() }, ['data'])),
    response: { 201: jsonAnswer('The instrument.', instrument), ...common, 400: err('`request.param.*`.'), 403: err('`request.forbidden`.'), 429: err('`request.rate-limit`.') },
  },
  savedInstruments: {
    summary: "The holder's saved instruments", tags: ['browser'], security: ['clientToken'],
    response: { 200: jsonAnswer('The instruments.', object({ results: { type: 'array', items: instrument } }, ['results'])), ...common, 403: err('`request.forbidden`.') },
  },
} as const satisfies Record<string, RouteSchema>;
