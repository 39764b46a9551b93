import { jsonAnswer, object, str, textAnswer, type JsonSchema, type RouteSchema } from '../../runtime/json-schema.ts';
import { formSchema, oppFields, type OppField } from './fields.ts';

/**
 * The `/v1` routes' schemas. Requests are the forms of fields.ts (the validators read the same
 * table); answers are the platform's envelope.
 */

const result = object({
  code: str('The result code (`GET /v1/resultcodes` lists them; docs/result-codes.md explains the families).', { pattern: '^[0-9]{3}\\.[0-9]{3}\\.[0-9]{3}$' }),
  description: str('What the code means; for refusals, what to do about it.'),
  parameterErrors: {
    type: 'array', description: 'The refused parameters: their name, the value sent (null when absent, never card data) and what is wrong.',
    items: object({ name: str(), value: { type: ['string', 'null'] }, message: str() }, ['name', 'value', 'message']),
  },
}, ['code', 'description']);

const envelope = {
  result,
  buildNumber: str('Which build answered.'),
  timestamp: str('When, in UTC: `YYYY-MM-DD hh:mm:ss+0000`.'),
  ndc: str('Request correlation id: `<entityId>_<32 hex>`.'),
};

/** Every answer of the dialect, refusals included. */
export const oppError = object(envelope, ['result', 'buildNumber', 'timestamp', 'ndc'], { description: 'A refusal: the envelope with its result (docs/errors.md).' });

const card = object({ bin: str(), last4Digits: str(), holder: str(), expiryMonth: str(), expiryYear: str() });
const transactionRedirect = object({ url: str(), method: { enum: ['GET', 'POST'] }, parameters: { type: 'array', items: object({ name: str(), value: str() }) } }, [],
  { description: 'In the answer that makes the payment wait for its shopper, and only there (a status or query does not repeat it): send the browser here (3-D Secure or the bank).' });
const transaction = object({
  ...envelope,
  id: str('The transaction id (32 hex).'), paymentType: str(), paymentBrand: str(), amount: str(), currency: str(), descriptor: str(),
  merchantTransactionId: str(), referencedId: str('For back-office transactions: the payment they refer to.'), registrationId: str(),
  card, resultDetails: object({}), risk: object({ score: str() }),
  redirect: transactionRedirect,
}, ['id', 'result'], { description: 'A transaction; answered alone it carries the envelope (buildNumber, timestamp, ndc).' });
/** A checkout refused to the widget: with `redirect` where its payment under way waits for its shopper's open challenge. */
const checkoutRefusal = (description: string) => jsonAnswer(`${description} \`800.700.100\`: a payment of the checkout is under way; with \`redirect\` when it waits for its shopper's open challenge (the way back to it).`,
  object({ ...envelope, redirect: transactionRedirect }, ['result', 'buildNumber', 'timestamp', 'ndc']));
const registration = object({ ...envelope, id: str(), paymentBrand: str(), card }, ['id', 'result']);

const refusals = {
  400: jsonAnswer('Refused parameters (`200.300.404` and the field codes of docs/result-codes.md), an unknown id, or a declined transaction.', oppError),
  401: jsonAnswer('`800.900.300`: no credentials, unknown credentials, or an entity that is not the caller\'s (the description says which).', oppError),
};
const security = ['bearer'];
const idParam = object({ id: str('32 hex characters.') }, ['id']);

/** The query string of GET and DELETE calls: the entity (and the legacy credentials). */
const entityQuery = (extra: readonly OppField[] = [], required: readonly string[] = []) => {
  const names = ['entityId', 'authentication.entityId', 'authentication.userId', 'authentication.password', ...extra] as const;
  return { type: 'object', properties: Object.fromEntries(names.map((n) => [n, oppFields[n]])), required } as JsonSchema;
};

const echoFields: readonly OppField[] = [
  'merchantTransactionId', 'testMode', 'merchantInvoiceId', 'descriptor', 'recurringType', 'customer.email', 'customer.givenName', 'customer.middleName',
  'customer.surname', 'customer.companyName', 'customer.phone', 'customer.mobile', 'customer.ip', 'customer.birthDate', 'customer.sex',
  ...(['billing', 'shipping'] as const).flatMap((g) => (['country', 'postcode', 'city', 'state', 'street1', 'street2', 'givenName', 'surname'] as const)
    .map((f) => `${g}.${f}` as OppField)),
  'standingInstruction.mode', 'standingInstruction.type', 'standingInstruction.source', 'threeDSecure.eci', 'customParameters[forceResultCode]',
];
const authFields: readonly OppField[] = ['entityId', 'authentication.entityId', 'authentication.userId', 'authentication.password'];
const threeDsFields: readonly OppField[] = ['shopperResultUrl', 'threeDSecure.challengeIndicator', 'customParameters[3DS2_enrolled]', 'customParameters[3DS2_flow]'];
const form = ['application/x-www-form-urlencoded'];
const formBody = (names: readonly (OppField | [string, OppField])[], required: readonly string[], description: string) =>
  ({ body: formSchema(names, required, description), consumes: form });

export const oppSchemas = {
  pay: {
    summary: 'Make a payment: authorize (PA), debit (DB) or authorize and capture (PA.CP)',
    description: 'A card payment or a bank transfer. The answer is final unless it carries `redirect` (3-D Secure or the bank): then send the shopper there; they come back to `shopperResultUrl`.',
    tags: ['payments'], security,
    ...formBody([...authFields, 'paymentType', 'amount', 'currency', 'paymentBrand', 'card.number', 'card.expiryMonth', 'card.expiryYear', 'card.cvv', 'card.holder',
      'bankAccount.country', 'bankAccount.bankName', 'bankAccount.holder', 'createRegistration', ...threeDsFields, ...echoFields],
    ['entityId', 'paymentType', 'amount', 'currency', 'paymentBrand'], 'Card fields are required with a card brand; bankAccount.country with SOFORTUEBERWEISUNG.'),
    response: { 200: jsonAnswer('Approved, or awaiting the shopper (`000.200.000` with `redirect`).', transaction), ...refusals },
  },
  followUp: {
    summary: 'A back-office operation on a payment: capture, reversal, refund, rebill, chargeback, receipt',
    description: 'The path names the payment (the `id` of its answer). An unknown id answers the reference\'s code for the operation (`700.400.510` for a capture) with a parameter error naming `id`.',
    tags: ['payments'], security, params: idParam,
    ...formBody([...authFields, ['paymentType', 'backOfficeType'], 'amount', 'currency', ...echoFields], ['entityId', 'paymentType'],
      'A reversal (RV) takes no amount; every other type does.'),
    response: { 200: jsonAnswer('The back-office transaction.', transaction), ...refusals },
  },
  status: {
    summary: "A payment's status (two requests per minute per payment)", tags: ['payments'], security, params: idParam, querystring: entityQuery(),
    response: { 200: jsonAnswer('The transaction.', transaction), ...refusals, 429: jsonAnswer('`800.120.100`: more than two status requests a minute for this payment; see Retry-After.', oppError) },
  },
  queryOne: {
    summary: 'One transaction by id (not rate limited)', tags: ['query'], security, params: idParam, querystring: entityQuery(),
    response: { 200: jsonAnswer('The transaction.', transaction), ...refusals },
  },
  queryByReference: {
    summary: "The transactions of a merchantTransactionId, oldest first, a page at a time", tags: ['query'], security,
    querystring: entityQuery(['merchantTransactionId', 'limit', 'pageNo', 'paymentTypes'], ['merchantTransactionId']),
    response: {
      200: jsonAnswer('A page of transactions.', object({ ...envelope, records: { type: 'integer' }, pageNo: { type: 'integer' }, pages: { type: 'integer' }, payments: { type: 'array', items: transaction } }, ['result', 'records', 'payments'])),
      ...refusals,
    },
  },
  register: {
    summary: 'Keep a card as a registration (token) without paying', tags: ['registrations'], security,
    ...formBody([...authFields, 'paymentBrand', 'card.number', 'card.expiryMonth', 'card.expiryYear', 'card.cvv', 'card.holder', ...echoFields],
      ['entityId', 'paymentBrand', 'card.number', 'card.expiryMonth', 'card.expiryYear'], 'The card to keep.'),
    response: { 200: jsonAnswer('The registration.', registration), ...refusals },
  },
  registrationPay: {
    summary: 'Pay with a registration',
    description: 'The registration holds the card: of the card fields only `card.cvv` and a renewed expiry (`card.expiryMonth` with `card.expiryYear`) may be sent, and `paymentBrand` may name another of the card\'s brands.',
    tags: ['registrations'], security, params: idParam,
    ...formBody([...authFields, 'paymentType', 'amount', 'currency', 'card.cvv', 'card.expiryMonth', 'card.expiryYear', ['paymentBrand', 'cardBrand'], ...threeDsFields, ...echoFields],
      ['entityId', 'paymentType', 'amount', 'currency'], 'A payment whose card is the registration\'s.'),
    response: { 200: jsonAnswer('The transaction.', transaction), ...refusals },
  },
  registrationGet: {
    summary: 'A registration, masked card only', tags: ['registrations'], security, params: idParam, querystring: entityQuery(),
    response: { 200: jsonAnswer('The registration.', registration), ...refusals },
  },
  registrationDelete: {
    summary: 'Delete a registration', tags: ['registrations'], security, params: idParam, querystring: entityQuery(),
    response: { 200: jsonAnswer('Deleted.', object({ ...envelope, id: str() }, ['id', 'result'])), ...refusals },
  },
  checkout: {
    summary: 'Create a checkout (COPYandPAY): the payment the widget on the shopper\'s page will make',
    description: 'The merchant\'s backend sends the payment without the card; the answer\'s `id` goes into the page\'s `/v1/paymentWidgets.js?checkoutId=` script. '
      + 'Card and bank fields are refused (the shopper types them into the widget); `registrations[n].id` offers the entity\'s stored cards for one-click payment.',
    tags: ['checkouts'], security,
    ...formBody([...authFields, ['paymentType', 'checkoutType'], 'amount', 'currency', 'createRegistration', ['registrations[0].id', 'registrations[n].id'], ...threeDsFields, ...echoFields],
      ['entityId', 'paymentType', 'amount', 'currency'], 'The payment, without the card.'),
    response: { 200: jsonAnswer('`000.200.100`: created; `id` (and `ndc`) name the checkout.', object({ ...envelope, id: str('The checkout id.') }, ['id', 'result'])), ...refusals },
  },
  checkoutWidget: {
    summary: "The widget's view of a checkout: amount, type and the offered registrations (masked)",
    description: 'Called by paymentWidgets.js from the shopper\'s browser; needs no credentials (the checkout id is the secret) and answers any origin.',
    tags: ['checkouts'], params: object({ id: str('The checkout id.') }, ['id']),
    response: {
      200: jsonAnswer('`000.200.103`: the checkout may be paid.', object({
        ...envelope, id: str(), amount: str(), currency: str(), paymentType: str(), expiresAt: str('ISO 8601.'),
        registrations: { type: 'array', items: object({ id: str(), brand: str(), last4Digits: str(), expiryMonth: str(), expiryYear: str(), holder: { type: ['string', 'null'] } }) },
      }, ['id', 'result'])),
      400: checkoutRefusal('`200.300.404`: no payment session for this id (unknown or expired), or the checkout is paid already.'),
    },
  },
  checkoutPay: {
    summary: "Pay a checkout from the widget: the shopper's card, or one of the offered registrations",
    description: 'Sent by the widget\'s form in the shopper\'s browser. Only the card fields, `shopperResultUrl`, `customer.browser.*`, `registrationId` and `brands` '
      + '(the form\'s data-brands) are taken from it: the checkout\'s own parameters always win. The answer\'s `resultUrl` is where the shopper goes next.',
    tags: ['checkouts'], params: object({ id: str('The checkout id.') }, ['id']),
    ...formBody(['card.number', 'card.expiryMonth', 'card.expiryYear', 'card.cvv', 'card.holder', 'shopperResultUrl', ['registrationId', 'registrations[n].id']], [],
      'The shopper\'s part of the payment.'),
    response: {
      200: jsonAnswer('The transaction, with `resultUrl` (shopperResultUrl + `id` and `resourcePath`) and `paymentId`.', object({ ...transaction.properties as Record<string, JsonSchema>, resultUrl: str(), paymentId: str() }, ['result'])),
      400: checkoutRefusal('Refused fields, a brand the form does not take (`100.100.501`), a registration not offered (`100.150.200`) or not confirmed yet (`100.150.201`), no session or paid already (`200.300.404`), or a declined payment.'),
    },
  },
  checkoutPayment: {
    summary: "The payment of a checkout, by the resourcePath the shopper brought back", tags: ['checkouts'], security,
    params: object({ id: str('The checkout id.') }, ['id']), querystring: entityQuery(),
    response: {
      200: jsonAnswer('The transaction; `000.200.000` with the checkout id alone while the shopper has not paid.', object({ ...transaction.properties as Record<string, JsonSchema> }, ['id', 'result'])),
      ...refusals,
      429: jsonAnswer('`800.120.100`: too many status requests for this checkout; see Retry-After.', oppError),
    },
  },
  widgetScript: {
    summary: 'The COPYandPAY widget script (`<script src="/v1/paymentWidgets.js?checkoutId=…">`)', tags: ['checkouts'],
    querystring: object({ checkoutId: str('The checkout the page pays.') }),
    response: { 200: textAnswer('The script: it turns the page\'s `form.paymentWidgets` into the payment form, card fields in the gateway\'s own frame.', 'application/javascript') },
  },
  resultCodes: {
    summary: 'Every result code and its description', tags: ['reference'],
    response: { 200: jsonAnswer('The catalogue.', object({ ...envelope, resultCodes: { type: 'array', items: object({ code: str(), description: str() }, ['code', 'description']) } }, ['result', 'resultCodes'])) },
  },
} as const satisfies Record<string, RouteSchema>;
