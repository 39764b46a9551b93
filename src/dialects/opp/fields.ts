import type { JsonSchema } from '../../runtime/json-schema.ts';
import { backOfficeTypes, checkoutTypes, initialTypes } from './payment-types.ts';
import { cardBrands } from '../../vault/card.ts';

/**
 * The `/v1` form fields: one JSON Schema each, with the result codes the dialect answers when the
 * field is missing (`x-missing-code`), malformed (`x-invalid-code`) or too long (`x-length-code`).
 * The validators (validate.ts) check fields against these schemas and the OpenAPI document shows
 * them, so what is accepted and what is documented cannot drift apart. Rules that tie fields
 * together (the amount's decimals follow the currency, a card brand needs card fields) stay code
 * and are described on the field.
 */
type Field = JsonSchema & { readonly type: 'string' };

const control = { pattern: '^\\P{Cc}*$', 'x-message': 'must not contain control characters' } as const;
const multiline = { pattern: '^(?:[\\t\\n\\r]|\\P{Cc})*$', 'x-message': 'must not contain control characters' } as const;
/** A contact or address field: any text up to `max` characters, no control characters (docs/compatibility.md). */
const contact = (description: string, max: number, code: string, lines = false): Field =>
  ({ type: 'string', description, ...(Number.isFinite(max) ? { maxLength: max } : {}), ...(lines ? multiline : control), 'x-invalid-code': code, 'x-length-code': code });
/** Free text up to `maxLength`, without control characters (no reference or statement text holds one, and PostgreSQL refuses a NUL). */
const text = (description: string, maxLength: number): Field => ({ type: 'string', description, maxLength, ...control });
const matching = (description: string, pattern: string, code?: string, message?: string): Field =>
  ({ type: 'string', description, pattern, ...(code ? { 'x-invalid-code': code } : {}), ...(message ? { 'x-message': message } : {}) });

export const amountPattern = '^[0-9]{1,12}(\\.[0-9]{2})?$';
/** An address's characters (IPv4, IPv6, IPv6 with an IPv4 tail); its structure is checked in validate.ts. */
const ipPattern = '^[0-9a-fA-F:.]{2,45}$';

export const oppFields = {
  entityId: matching('The entity (channel) the request is for: 32 lowercase hex characters. Also accepted as `authentication.entityId`.', '^[0-9a-f]{32}$'),
  'authentication.entityId': matching('Legacy spelling of `entityId`.', '^[0-9a-f]{32}$'),
  'authentication.userId': text('Legacy credentials: the first half of the access token (with `authentication.password`).', 4096),
  'authentication.password': text('Legacy credentials: the second half of the access token.', 4096),
  paymentType: {
    type: 'string', description: 'PA (authorize), DB (debit/sale), CD (credit: a payout to the card) or PA.CP (authorize and capture at once).',
    enum: [...initialTypes], 'x-message': `must be one of [${initialTypes.join(', ')}]`,
  },
  checkoutType: {
    type: 'string', description: 'The payment the widget makes: PA, DB or PA.CP (a credit needs no shopper).',
    enum: [...checkoutTypes], 'x-message': `must be one of [${checkoutTypes.join(', ')}]`,
  },
  backOfficeType: { type: 'string', description: 'CP capture, RV reversal (void), RF refund, RB rebill, CB chargeback, CR chargeback reversal, RC receipt.', enum: [...backOfficeTypes], 'x-message': `must be one of [${backOfficeTypes.join(', ')}]` },
  amount: matching("Major units with the currency's decimals: `92.00` for EUR, `92` for JPY. Must be greater than 0 (`100.550.300`).", amountPattern),
  currency: { ...matching('ISO 4217 code.', '^[A-Z]{3}$'), 'x-known-code': '100.550.401' },
  paymentBrand: { type: 'string', description: `A card brand (${cardBrands.join(', ')}) or SOFORTUEBERWEISUNG for a bank transfer. Unknown brand → \`100.100.501\`; missing with card fields → \`100.100.500\`.` },
  cardBrand: {
    type: 'string', description: `With a registration: another of its card's brands (${cardBrands.join(', ')}); unknown → \`100.100.501\`.`,
    enum: [...cardBrands], 'x-message': 'must be a supported card brand', 'x-invalid-code': '100.100.501',
  },
  'registrations[n].id': matching('A registration offered to the shopper for one-click payment (`registrations[0].id` … `registrations[99].id`): 32 lowercase hex characters.', '^[0-9a-f]{32}$'),
  'card.number': { ...matching('12 to 19 digits.', '^[0-9]{12,19}$', '100.100.101'), 'x-missing-code': '100.100.100' },
  'card.expiryMonth': { ...matching('Two digits, 01 to 12.', '^(0[1-9]|1[0-2])$', '100.100.201'), 'x-missing-code': '100.100.200' },
  'card.expiryYear': { ...matching('Four digits.', '^(19|20)([0-9]{2})$', '100.100.301'), 'x-missing-code': '100.100.300' },
  'card.cvv': matching('3 or 4 digits.', '^[0-9]{3,4}$', '100.100.601'),
  'card.holder': {
    type: 'string', description: "The cardholder's name, 2 to 128 characters.", minLength: 2, maxLength: 128, pattern: '^[^\\p{Cc}<>]*$',
    'x-message': 'must not contain control characters or angle brackets', 'x-invalid-code': '100.100.402',
    'x-length-code': '100.100.401', 'x-length-message': 'size must be between 2 and 128',
  },
  'bankAccount.country': { ...matching("The shopper's bank's country (ISO 3166 alpha-2); required for a bank transfer.", '^[A-Z]{2}$', '100.800.501') },
  'bankAccount.bankName': text('The bank, for a bank transfer.', 60),
  'bankAccount.holder': text("The account holder's name, for a bank transfer.", 128),
  shopperResultUrl: {
    type: 'string', description: 'Absolute http(s) URL the shopper is sent back to after 3-D Secure or the bank page. Required when the payment needs the shopper (`100.370.101` names it).',
    maxLength: 2048, 'x-invalid-code': '100.370.102', 'x-message': 'must be an absolute http(s) URL',
  },
  createRegistration: matching('`true` keeps the card as a registration (token) for later payments.', '^(true|false)$', undefined, 'must be true or false'),
  merchantTransactionId: text("The merchant's own reference; `GET /v1/query?merchantTransactionId=` finds its transactions.", 255),
  testMode: matching('INTERNAL or EXTERNAL: which test system answers a test entity (refused for a live one, `100.300.101`).', '^(INTERNAL|EXTERNAL)$', '100.300.101'),
  // A name, an @, and a domain with a dot neither first nor last. The domain's first dot after its
  // first character is where it splits: with dots on both sides of the split, the pattern was tried
  // from every dot of a long value (quadratic; Ajv runs it however far past the 50 characters).
  'customer.email': {
    type: 'string', description: "The shopper's email address (at most 50 characters).", pattern: '^[^\\s@\\p{Cc}]+@[^\\s@\\p{Cc}][^\\s@\\p{Cc}.]*\\.[^\\s@\\p{Cc}]+$', maxLength: 50,
    'x-message': 'must be a valid email address', 'x-invalid-code': '100.900.101', 'x-length-code': '100.900.105', 'x-checks': 'each',
  },
  'customer.givenName': contact('Contact and address fields take any text without control characters, up to their length.', 50, '100.700.201'),
  'customer.middleName': contact('', 50, '200.300.404'),
  'customer.surname': contact('', 50, '100.700.101'),
  'customer.companyName': contact('', 60, '100.700.500'),
  'customer.phone': contact('As people write them: `+1 (555) 123-4567 ext. 89`.', 50, '100.900.200'),
  'customer.mobile': contact('', 50, '100.900.300'),
  'customer.ip': matching('IPv4 or IPv6 address (an IPv4-mapped one, `::ffff:192.0.2.1`, too).', ipPattern, '100.900.401', 'must be an IPv4 or IPv6 address'),
  'customer.birthDate': matching('YYYY-MM-DD.', '^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$', '100.900.450'),
  'customer.sex': matching('F or M.', '^[FM]$'),
  'customer.browser': text('Each `customer.browser.*` value (acceptHeader, userAgent, language, screenHeight, screenWidth, screenColorDepth, timezone, javaEnabled, javascriptEnabled, challengeWindow): the shopper\'s browser, as 3-D Secure 2 describes it; passed to the PSP.', 2048),
  ...Object.fromEntries(['billing', 'shipping'].flatMap((g) => [
    [`${g}.country`, matching('ISO 3166 alpha-2.', '^[A-Z]{2}$', '100.800.501')],
    [`${g}.postcode`, contact('', 16, '100.800.201')],
    [`${g}.city`, contact('', 80, '100.800.301')],
    [`${g}.state`, contact('', 50, '100.800.401')],
    [`${g}.street1`, contact('street1 and street2 together: at most 201 characters (`100.800.101`). Line breaks allowed.', Infinity, '100.800.101', true)],
    [`${g}.street2`, contact('', Infinity, '100.800.101', true)],
    [`${g}.givenName`, contact('', 50, '200.300.404')],
    [`${g}.surname`, contact('', 50, '200.300.404')],
  ])) as Record<string, Field>,
  merchantInvoiceId: text('Echoed back.', 255),
  descriptor: text('Text for the shopper\'s statement.', 127),
  recurringType: matching('INITIAL or REPEATED.', '^(INITIAL|REPEATED)$'),
  'standingInstruction.mode': matching('', '^(INITIAL|REPEATED)$'),
  'standingInstruction.type': matching('', '^(UNSCHEDULED|RECURRING|INSTALLMENT)$'),
  'standingInstruction.source': matching('CIT or MIT (merchant-initiated: the shopper is not there to authenticate).', '^(CIT|MIT)$'),
  'standingInstruction.initialTransactionId': matching('On a REPEATED charge: the initialTransactionId the INITIAL one answered.', '^[A-Za-z0-9._-]{1,64}$'),
  'threeDSecure.eci': matching('The ECI of an authentication the merchant\'s own 3-D Secure server ran (with `threeDSecure.verificationId`): 05 or 06 (Visa, Amex, JCB), 02 or 01 (Mastercard).', '^[0-9]{2}$'),
  'threeDSecure.verificationId': matching('The issuer\'s cryptogram (CAVV, AAV) of the merchant\'s own 3-D Secure authentication, base64 or hex: passed to the PSP, and nobody challenges the shopper again.', '^[A-Za-z0-9+/=]{20,64}$', undefined, 'must be the cryptogram as the 3-D Secure server gave it (base64 or hex)'),
  'threeDSecure.xid': matching('3-D Secure 1: the transaction\'s XID, base64 or hex.', '^[A-Za-z0-9+/=]{20,64}$', undefined, 'must be the XID as the 3-D Secure server gave it (base64 or hex)'),
  'threeDSecure.dsTransactionId': matching('3-D Secure 2: the directory server\'s transaction id (a UUID).', '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', undefined, 'must be a UUID'),
  'threeDSecure.version': matching('The 3-D Secure protocol\'s version, e.g. 2.2.0.', '^[12]\\.[0-9]\\.[0-9]$', undefined, 'must be a version such as 2.2.0'),
  // The platform's testing guide writes `4` for `04`: both are taken.
  'threeDSecure.challengeIndicator': matching('', '^0?[1-4]$', undefined, 'must be one of 01, 02, 03, 04'),
  'customParameters[3DS2_enrolled]': matching('Test switch: whether the simulated card is enrolled in 3-D Secure.', '^(true|false)$', undefined, 'must be true or false'),
  'customParameters[3DS2_flow]': matching('Test switch: challenge or frictionless.', '^(challenge|frictionless)$', undefined, 'must be challenge or frictionless'),
  'customParameters[forceResultCode]': { type: 'string', description: 'Test switch: the result code the simulated acquirer answers with (one GET /v1/resultcodes lists).' },
  limit: matching('Transactions per page, 1 to 100 (default 100).', '^[0-9]{1,3}$', undefined, 'must be between 1 and 100'),
  pageNo: matching('Page number from 1.', '^[0-9]{1,9}$', undefined, 'must be a page number from 1'),
  paymentTypes: matching('Only these payment types, comma-separated (`PA,CP`).', '^[A-Z.]{2,5}(,[A-Z.]{2,5}){0,10}$', undefined, 'must list payment types, comma-separated'),
} as const satisfies Record<string, Field>;

export type OppField = keyof typeof oppFields;

/** Names that are families rather than fields: documented as pattern properties. */
const families: Readonly<Record<string, JsonSchema>> = {
  '^customParameters\\[[a-zA-Z0-9._]{3,64}\\]$': { type: 'string', description: 'Custom parameters, echoed back.' },
  '^cart\\.items\\[[0-9]{1,2}\\]\\.(name|merchantItemId|description|price|tax|discount|quantity|currency)$': { type: 'string', description: 'Cart items (at most 100): price, tax and discount as amounts, quantity up to 6 digits.' },
  '^(customer|merchant|threeDSecure)\\.[A-Za-z0-9_.]+$': { type: 'string', description: 'Other documented parameters of these groups, echoed back.' },
};

/** The form a request takes: its fields' schemas, as one object schema for the documents. */
export function formSchema(names: readonly (OppField | [string, OppField])[], required: readonly string[], description?: string): JsonSchema {
  const properties = Object.fromEntries(names.map((n) => (Array.isArray(n) ? [n[0], oppFields[n[1]]] : [n, oppFields[n]])));
  return { type: 'object', ...(description ? { description } : {}), properties, required, patternProperties: families };
}
