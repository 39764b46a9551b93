import { emptyAnswer, textAnswer, type DocumentedResponse, type JsonSchema, type RouteSchema } from '../runtime/json-schema.ts';

/**
 * The dashboard's routes, documented in the `public` document beside the other pages a browser
 * loads (docs/dashboard.md). They are HTML pages and HTML forms for people, not an API: every
 * answer is a page, a redirect or an asset, and a session cookie (not a token) signs the user in.
 * They document and do not validate (routes.ts): each form answers its own faults on its page.
 */

const htmlPage = (description: string) => textAnswer(description, 'text/html');
const signedIn: Record<string, DocumentedResponse> = {
  303: emptyAnswer('Without a session: to /dashboard/sign-in?next=… (GET); after a form: on to the page that shows its result.'),
  401: htmlPage('Without a session (POST): the "signed out" page.'),
  403: htmlPage('A form not sent from the dashboard (CSRF token), or a role that may not do this.'),
};
const fields = (names: Readonly<Record<string, string>>): JsonSchema =>
  ({ type: 'object', description: 'An HTML form (application/x-www-form-urlencoded).', properties: Object.fromEntries(Object.entries(names).map(([k, d]) => [k, { description: d }])) });
const csrf = { _csrf: 'The form\'s CSRF token.' };
const form = ['application/x-www-form-urlencoded'];
const idParams = (description: string): JsonSchema => ({ type: 'object', properties: { id: { type: 'string', description } }, required: ['id'] });

const pageOf = (summary: string, parts: Partial<RouteSchema>, response: Record<string, DocumentedResponse>): RouteSchema =>
  ({ summary, tags: ['dashboard'], ...parts, response: { ...signedIn, ...response } });
const formOf = (summary: string, body: Readonly<Record<string, string>>, parts: Partial<RouteSchema>, response: Record<string, DocumentedResponse>): RouteSchema =>
  pageOf(summary, { ...parts, body: fields({ ...csrf, ...body }), consumes: form }, response);

const merchant = idParams('The merchant id (32 hex characters).');
const formKey = 'The form\'s one-time key (a UUID): what the form does is done once, however often it is sent; sent again, the answer says what the first did.';
const sentAgain = { 409: htmlPage('The form is being sent already, or was sent before with other values.') };
const outcome = { 200: htmlPage('The merchant page with the outcome.'), 400: htmlPage('The merchant page naming what is wrong.'), 404: htmlPage('No such merchant visible to this user.') };

export const dashboardSchemas = {
  asset: {
    summary: 'A dashboard asset (its stylesheet and small scripts)', tags: ['dashboard'],
    params: { type: 'object', properties: { file: { type: 'string' } }, required: ['file'] },
    response: { 200: { description: 'The file (CSS or JavaScript).', content: { 'text/css': { schema: { type: 'string' } }, 'application/javascript': { schema: { type: 'string' } } } }, 404: htmlPage('No such asset.') },
  },
  signInPage: {
    summary: 'The sign-in page', tags: ['dashboard'],
    querystring: { type: 'object', properties: { next: { type: 'string', description: 'A /dashboard path to go to after signing in.' } } },
    response: { 200: htmlPage('The sign-in form.') },
  },
  signIn: {
    summary: 'Sign in with email and password', tags: ['dashboard'], consumes: form,
    body: fields({ ...csrf, email: 'The user\'s email.', password: 'The user\'s password.', next: 'Where to go afterwards (a /dashboard path).' }),
    response: {
      303: emptyAnswer('Signed in: a session cookie, and on to `next`.'), 401: htmlPage('The email or password is wrong, or the account is locked (answered alike, so as not to tell which emails are users).'),
      403: htmlPage('The sign-in form expired.'),
      429: htmlPage('This address made too many failed sign-ins (any accounts) and waits `Retry-After` seconds at most.'),
    },
  },
  signOut: { summary: 'Sign out', tags: ['dashboard'], consumes: form, body: fields(csrf), response: { 303: emptyAnswer('To the sign-in page, the session ended.'), 401: htmlPage('No session.'), 403: htmlPage('Not sent from the dashboard.') } },
  overview: pageOf('The overview: today\'s payments, approval rate, unknown outcomes, follow-ups pending at a PSP, webhook backlog, attempts per PSP account and declines by reason', {}, { 200: htmlPage('The overview.') }),
  payments: pageOf('Payments, searched and filtered, a page at a time', {
    querystring: { type: 'object', description: 'The filter of GET /admin/api/payments (q, merchant, status, outcome, currency, account, channel, from, to, min, max, cursor, limit).' },
  }, { 200: htmlPage('The list.'), 400: htmlPage('The list\'s form naming the filter at fault.') }),
  payment: pageOf('One payment\'s story, with the actions the user may take', {
    params: idParams('The payment id.'),
    querystring: { type: 'object', properties: { done: { type: 'string', description: 'The operation an action made (shown as its outcome).' }, refused: { type: 'string', description: 'Why the gateway refused an action.' } } },
  }, { 200: htmlPage('The payment.'), 404: htmlPage('No such payment visible to this user.') }),
  action: (kind: string) => formOf(`${kind[0]!.toUpperCase()}${kind.slice(1)} a payment (confirm first)`, {
    amount: kind === 'void' ? 'Not used: a void takes the whole authorization.' : 'The amount, in the payment\'s currency (10.00).',
    confirmed: '`yes` once the confirmation page was shown; otherwise the confirmation page is the answer.',
    actionKey: 'The confirmation page\'s one-time key (a UUID): the action runs once, however often the form is sent.',
  }, { params: idParams('The payment id.') }, {
    200: htmlPage('The confirmation page.'), 400: htmlPage('The payment page naming the bad amount.'), 404: htmlPage('No such payment visible to this user.'),
  }),
  reconciliation: pageOf('Settlement reconciliation: the discrepancies reports left, oldest first', {
    querystring: { type: 'object', properties: {
      status: { type: 'string', description: '`open` (the default) or `resolved`.' }, cursor: { type: 'string', description: 'The cursor of the next page.' },
      done: { type: 'string', description: 'The discrepancy the last form resolved.' },
    } },
  }, { 200: htmlPage('The discrepancies, with what each side said.') }),
  resolveDiscrepancy: formOf('Resolve an open discrepancy with a note (operators and admins)', { note: 'Required: how it was resolved, at most 2,000 characters; no card number.' },
    { params: idParams('The discrepancy id (32 hex characters).') },
    { 400: htmlPage('The list, saying what is wrong with the note.'), 404: htmlPage('No such discrepancy visible to this user.'), 409: htmlPage('The discrepancy is resolved already.') }),
  audit: pageOf('The audit log (admins)', { querystring: { type: 'object', properties: { before: { type: 'string', description: 'The cursor of the next page.' } } } }, { 200: htmlPage('The entries, newest first.') }),
  merchants: pageOf('Merchants (admins)', {}, { 200: htmlPage('The merchants.') }),
  createMerchant: formOf('Create a merchant (gateway admins)', {
    name: 'Required, at most 200 characters.', live: '`yes` for a live merchant.', unique: '`yes`: merchantTransactionId must be unique.',
    formKey: 'The form\'s one-time key (a UUID): the merchant is created once, however often the form is sent.',
  }, {},
    { 201: htmlPage('The new merchant\'s credentials, shown once.'), 200: htmlPage('The form was sent before: the merchant it created, no second one.'), 400: htmlPage('The merchants page naming what is wrong.'), 409: htmlPage('The form is being sent already, or was sent with other values.') }),
  merchant: pageOf('A merchant\'s configuration: entities, origins, PSP accounts, cascade, webhooks', { params: merchant }, { 200: htmlPage('The merchant.'), 404: outcome[404] }),
  rotateCredentials: formOf('Rotate a merchant\'s credentials (confirm first; the new secrets are shown once)', {
    dialect: 'both (default), opp (the /v1 access token) or executions (the API key; access tokens issued with the old one stop working too).',
    confirmed: '`yes` once the confirmation page was shown; otherwise the confirmation page is the answer.', formKey,
  }, { params: merchant }, { 200: htmlPage('The confirmation page, or after it the new secrets, shown once (sent again: that they were rotated then).'), 400: outcome[400], 404: outcome[404], ...sentAgain }),
  addOrigin: formOf('Register a web origin', { origin: 'https://shop.example (http only on loopback hosts).' }, { params: merchant }, outcome),
  removeOrigin: formOf('Remove a web origin', { origin: 'The origin.' }, { params: merchant }, outcome),
  putAccount: formOf('Create or replace a PSP account', { name: 'The account name.', connector: 'The connector (simulator by default).', settings: 'The settings, as JSON.' }, { params: merchant }, outcome),
  removeAccount: formOf('Remove a PSP account no cascade names', { name: 'The account name.' }, { params: merchant }, outcome),
  workflow: formOf('Set the payment cascade', { accounts: 'PSP account names in order, comma-separated.' }, { params: merchant }, outcome),
  addEndpoint: formOf('Add a webhook endpoint', { dialect: 'opp or executions.', url: 'An https URL.', types: 'Event types, comma-separated (all when empty).', formKey }, { params: merchant },
    { ...outcome, 200: htmlPage('The form was sent before: the endpoint it added, no second one.'), 201: htmlPage('The endpoint\'s secret, shown once.'), ...sentAgain }),
  endpoint: pageOf('A webhook endpoint and its deliveries', { params: idParams('The endpoint id.'), querystring: { type: 'object', properties: { before: { type: 'string', description: 'The cursor of the next page of deliveries (older ones).' } } } }, { 200: htmlPage('The endpoint.'), 404: htmlPage('No such endpoint visible to this user.') }),
  endpointAction: formOf('Act on a webhook endpoint: test, redeliver, status or rotate', {
    event: 'redeliver: the event id.', status: 'status: active or disabled.',
    confirmed: 'rotate, and status=disabled: `yes` once the confirmation page was shown; otherwise the confirmation page is the answer.',
    formKey: `rotate: ${formKey}`,
  }, {
    params: { type: 'object', properties: { id: { type: 'string' }, op: { type: 'string', description: 'test, redeliver, status or rotate (anything else: 404).' } }, required: ['id', 'op'] },
  }, { 200: htmlPage('The endpoint page with the outcome; before a rotate or a disable, the confirmation page; after a rotate, the new secret.'), 400: htmlPage('The endpoint page naming what is wrong.'), 404: htmlPage('No such endpoint or action.'), ...sentAgain }),
  keys: pageOf('Merchants\' keys and where to use them', {}, { 200: htmlPage('The keys page (secrets never shown again).') }),
} as const;
