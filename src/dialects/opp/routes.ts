import { isStoreUnavailable } from '../../storage/unavailable.ts';
import { bearerTokenOf } from '../../runtime/bearer.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../runtime/clock.ts';
import type { Entity, Merchant } from '../../merchants/model.ts';
import type { MerchantService } from '../../merchants/service.ts';
import type { PaymentService, PaymentView, Scope } from '../../payments/service.ts';
import { initialOf } from '../../payments/model.ts';
import { resultCodes } from '../../processors/result-codes.ts';
import type { Throttle } from '../../throttle/service.ts';
import type { ThreeDsService } from '../../threeds/service.ts';
import type { Challenge } from '../../threeds/store.ts';
import type { Registration, RegistrationService, Renewal } from '../../vault/registrations.ts';
import { successCodeByMode } from '../../processors/result-codes.ts';
import { scrubPans } from '../../runtime/scrub.ts';
import { FormError, parseForm, utf8Body, type FormParams } from './form.ts';
import { newNdc, oppTimestamp, resultOf, type ParameterError } from './envelope.ts';
import { cardErrorFields, httpStatusOf, notFoundCodes, paymentErrorCodes, registrationErrorCodes } from './result-map.ts';
import { codeOfView, registrationEcho, renderRegistration, renderTransaction } from './render.ts';
import { backOfficeTypes, initialTypes, isBackOfficeType, isInitialType, kindOfBackOffice, kindOfInitial, paymentTypeOf, type BackOfficeType, type InitialType } from './payment-types.ts';
import { type InitialRequest, type RegistrationPaymentRequest, readBackOffice, readCheckout, readInitial, readQueryPage, readRegistration, readRegistrationPayment, screenCardData } from './validate.ts';
import type { CardDataScreen } from '../../vault/free-text.ts';
import type { CheckoutService } from '../../checkouts/service.ts';
import { checkoutIdPattern, checkoutLifetimeMs, payable, sessionFound, type CheckoutRecord } from '../../checkouts/model.ts';
import { detectBrand, isExpired, listedBrandFor } from '../../vault/card.ts';
import { widgetScript } from '../../hosted/routes.ts';
import { oppSchemas } from './schemas.ts';
import { hasControlCharacter } from '../../runtime/control-characters.ts';
import { clipText } from '../../runtime/utf8.ts';
import { encodedBodyRefusal } from '../../runtime/content-encoding.ts';

/** Declined payments one checkout takes (the shopper may try other cards); then it takes none. */
export const checkoutDeclineLimit = 5;

export interface OppDeps {
  merchants: MerchantService;
  payments: PaymentService;
  throttle: Throttle;
  threeds: ThreeDsService;
  registrations: RegistrationService;
  clock: Clock;
  /** The gateway's address for shoppers' browsers; defaults to the address the request came to. */
  publicUrl: string | undefined;
  buildNumber: string;
  /** Status calls allowed per payment per window (the platform allows two a minute). */
  statusLimit: { calls: number; windowMs: number };
  /** Card numbers typed into other fields: refused or masked before anything is read. */
  cardData: CardDataScreen;
  /** COPYandPAY checkouts the payment widget pays. */
  checkouts: CheckoutService;
}

const idPattern = /^[0-9a-f]{32}$/;
/** Most transactions of one reference that `/v1/query` reads to tell a DB from a PA.CP (see there). */
const typeSortLimit = 1000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The `/v1` body was JSON, which the dialect does not read (it is answered with what to send instead). */
    oppJsonBody?: boolean;
    /** The body was multipart/form-data (PHP cURL given an array, a browser's FormData): answered once the caller is known. */
    oppMultipartBody?: boolean;
  }
}

/** The three ways authentication fails, each told apart (docs/errors.md); the wrong-token case keeps the reference's words. */
export const authDescriptions = {
  missing: 'invalid authentication information: no credentials were sent. Send the header Authorization: Bearer <access token>',
  unknown: 'invalid authentication information',
  foreign: 'invalid authentication information: the access token is valid, but entityId is not an entity of this merchant. Use an entityId the token was issued with',
  conflicting: 'invalid authentication information: entityId and authentication.entityId name different entities. Send one of them',
} as const;
export const jsonBodyDescription = 'invalid or missing parameter: the /v1 dialect reads form-encoded bodies, not JSON';
export const jsonBodyMessage = 'send Content-Type: application/x-www-form-urlencoded with name=value pairs (entityId=...&amount=92.00&card.number=...), not a JSON document';
export const multipartBodyDescription = 'invalid or missing parameter: the /v1 dialect reads form-encoded bodies, not multipart/form-data';
export const multipartBodyMessage = 'send Content-Type: application/x-www-form-urlencoded with name=value pairs (entityId=...&amount=92.00&card.number=...), not multipart/form-data (in PHP, pass http_build_query($fields) to CURLOPT_POSTFIELDS, not the array)';
export const returnUrlMessage = 'is required for this payment: the shopper is sent to 3-D Secure (or the bank) and comes back to this URL';

/** The `/v1` payments dialect (register with prefix `/v1`): parses its form bodies, calls the engine, shapes its answers. */
export async function registerOppRoutes(app: FastifyInstance, deps: OppDeps): Promise<void> {
  const { merchants, payments, throttle, threeds, registrations, clock, buildNumber } = deps;

  function send(reply: FastifyReply, status: number, entityId: string | undefined, body: Record<string, unknown>) {
    // Checkout flows answer with the checkout's id as the ndc, as the platform does.
    const ndc = typeof body.ndc === 'string' ? body.ndc : newNdc(entityId);
    const envelope = { ...body, buildNumber, timestamp: body.timestamp ?? oppTimestamp(clock.now()), ndc };
    return reply.code(status).header('content-type', 'application/json;charset=UTF-8').header('cache-control', 'no-store').send(envelope);
  }
  /** A refusal; `description` replaces the code's catalogue words where they would not say what to do. */
  const refuse = (reply: FastifyReply, status: number, entityId: string | undefined, code: string, errors?: ParameterError[], description?: string) =>
    send(reply, status, entityId, { result: { ...resultOf(code, errors), ...(description ? { description } : {}) } });

  function formOf(req: FastifyRequest): FormParams {
    return (req.body as FormParams | undefined) ?? Object.create(null);
  }
  function queryOf(req: FastifyRequest): FormParams {
    const q = req.raw.url?.split('?')[1] ?? '';
    return parseForm(q);
  }

  /**
   * Who is calling: the bearer token, or the legacy `authentication.userId` + `authentication.password`
   * pair (the token's two halves) from the form or query. Both may be sent, but must name the same
   * merchant; anything missing, unknown or disagreeing is the bearer refusal.
   */
  async function caller(req: FastifyRequest, params: FormParams): Promise<Merchant | undefined> {
    const header = req.headers.authorization;
    const userId = params['authentication.userId'];
    const password = params['authentication.password'];
    const legacy = userId !== undefined || password !== undefined;
    if (header === undefined && !legacy) return undefined;
    let byHeader: Merchant | undefined;
    if (header !== undefined) {
      const presented = bearerTokenOf(header);
      byHeader = presented !== undefined ? await merchants.byAccessToken(presented) : undefined;
      if (!byHeader) return undefined;
    }
    if (!legacy) return byHeader;
    const byPair = userId !== undefined && password !== undefined ? await merchants.byUserPassword(userId, password) : undefined;
    if (!byPair || (byHeader && byHeader.id !== byPair.id)) return undefined;
    return byPair;
  }

  /**
   * Caller, then entity: 401 + 800.900.300 unless both belong together (decision 2 for foreign
   * entities). The code stays the reference's; the description says which of the three it was
   * (docs/errors.md): nothing sent, credentials not known, or an entity that is not the caller's
   * (an unknown entity and another merchant's answer alike, so nothing leaks about either).
   */
  async function authenticate(req: FastifyRequest, reply: FastifyReply, params: FormParams): Promise<{ merchant: Merchant; entity: Entity } | undefined> {
    const merchant = await caller(req, params);
    const given = params.entityId ?? params['authentication.entityId'];
    // Only a well-formed id goes into the ndc; anything else the client sent is not reflected.
    const entityId = given !== undefined && idPattern.test(given) ? given : undefined;
    // Both spellings of the entity sent: they name one entity or the request is not authenticated.
    const conflicting = params.entityId !== undefined && params['authentication.entityId'] !== undefined && params.entityId !== params['authentication.entityId'];
    const unauthorized = (description: string) => {
      reply.header('www-authenticate', 'Bearer realm="switchyard", error="invalid_token", error_description="Invalid Authorization header!"');
      return refuse(reply, 401, entityId, '800.900.300', undefined, description);
    };
    if (!merchant) {
      const sent = req.headers.authorization !== undefined || params['authentication.userId'] !== undefined || params['authentication.password'] !== undefined;
      await unauthorized(sent ? authDescriptions.unknown : authDescriptions.missing);
      return undefined;
    }
    if (req.oppJsonBody) {
      await refuse(reply, 400, entityId, '200.300.404', [{ name: 'body', value: null, message: jsonBodyMessage }], jsonBodyDescription);
      return undefined;
    }
    if (req.oppMultipartBody) {
      await refuse(reply, 400, entityId, '200.300.404', [{ name: 'body', value: null, message: multipartBodyMessage }], multipartBodyDescription);
      return undefined;
    }
    if (conflicting) { await unauthorized(authDescriptions.conflicting); return undefined; }
    if (given === undefined) {
      await refuse(reply, 400, undefined, '200.300.404', [{ name: 'entityId', value: null, message: 'may not be empty' }]);
      return undefined;
    }
    const entity = entityId !== undefined ? await merchants.entityOf(merchant, entityId) : undefined;
    if (!entity) {
      await unauthorized(authDescriptions.foreign);
      return undefined;
    }
    return { merchant, entity };
  }

  /** The parameters with card numbers masked, or undefined once the refusal is sent. */
  async function screened(reply: FastifyReply, entity: Entity, params: FormParams): Promise<FormParams | undefined> {
    const s = screenCardData(params, deps.cardData);
    if (s.ok) return s.value;
    await refuse(reply, 400, entity.id, s.refusal.code, s.refusal.parameterErrors);
    return undefined;
  }

  const renderView = (v: PaymentView, entity: Entity) => renderTransaction(v, entity.channelName);
  const scopeOf = (entity: Entity): Scope => ({ channel: 'opp', entityId: entity.id });
  /** What the dialect keeps with a payment for its answers: the echoed groups, the letters asked with, the return URL and test system. */
  const contextOf = (type: InitialType, r: { echo: Readonly<Record<string, unknown>>; shopperResultUrl: string | undefined; testMode: string | undefined }) => ({
    ...r.echo, ...(type === 'PA.CP' ? { paymentType: type } : {}),
    ...(r.shopperResultUrl !== undefined ? { shopperResultUrl: r.shopperResultUrl } : {}), ...(r.testMode !== undefined ? { testMode: r.testMode } : {}),
  });
  /** A registration call's success code: by the merchant's mode, and for a test merchant the call's `testMode`. */
  const successCodeOf = (m: Merchant, testMode?: string) => successCodeByMode[m.live ? 'LIVE' : testMode === 'EXTERNAL' ? 'EXTERNAL' : 'INTERNAL'];

  // Forms are the dialect's only body format; any other body type is read as a form too, so a
  // mislabelled request gets a parameter error instead of a 415 outside the envelope.
  app.removeAllContentTypeParsers();
  // A JSON body is the commonest first mistake: it is answered as such once the caller is known.
  app.addContentTypeParser(['application/x-www-form-urlencoded', '*'], { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (req, body, done) => {
    // Compressed bodies are not taken: read as they came, a gzip body would be "not UTF-8", and one
    // labelled gzip that is not would be taken as a plain form.
    const encoded = encodedBodyRefusal(req.headers['content-encoding']);
    if (encoded !== undefined) return done(new FormError(`Content-Encoding ${encoded}`), undefined);
    // Its parts are not name=value pairs: read as a form, its entityId went unseen.
    if (/^multipart\//i.test(req.headers['content-type'] ?? '')) {
      req.oppMultipartBody = true;
      return done(null, Object.create(null));
    }
    let text: string;
    try { text = utf8Body(body as Buffer); } catch (err) { return done(err as Error, undefined); }
    if (/^application\/([a-z.+-]+\+)?json/i.test(req.headers['content-type'] ?? '') || /^\s*[{[]/.test(text)) {
      req.oppJsonBody = true;
      return done(null, Object.create(null));
    }
    try { done(null, parseForm(text)); } catch (err) { done(err as Error, undefined); }
  });

  // The routes' schemas (schemas.ts, from the field table) are checked by the dialect itself, after
  // authentication and the card-data screen (validate.ts): a refusal then names every field at
  // fault with its own result code, and an unauthenticated caller learns nothing about the form.
  app.setValidatorCompiler(() => () => true);

  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof FormError || (err.statusCode && err.statusCode < 500)) {
      const status = err.statusCode === 413 ? 413 : 400;
      // Named by the parameter at fault where there is one (a client maps the names to its fields),
      // else by the body as a whole; the message keeps the parameter's name for a reader.
      const name = err instanceof FormError && err.parameter !== undefined ? err.parameter : 'body';
      const unread = status === 413 ? 'request body is too large: at most 64 KiB' : 'request body could not be read';
      return refuse(reply, status, undefined, '200.300.404', [{ name, value: null, message: err instanceof FormError ? err.message : unread }]);
    }
    if (isStoreUnavailable(err)) {
      // The database could not serve it now (its deadline, a lock held elsewhere, a lost connection):
      // a unit of work that failed so kept nothing, and the request may go again once the merchant
      // has looked for what an earlier unit of the same request may have kept.
      req.log.warn({ err: String(err) }, 'request refused: the store is unavailable');
      reply.header('retry-after', '1');
      return refuse(reply, 503, undefined, '900.100.100', undefined,
        'The gateway could not reach its database in time: try again shortly (a payment: look it up by its merchantTransactionId first)');
    }
    req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
    return refuse(reply, 500, undefined, '999.999.999');
  });

  // The path is echoed to help the integrator, but never a card number someone put into it.
  app.setNotFoundHandler((req, reply) => refuse(reply, 404, undefined, '200.300.404', [{ name: 'path', value: clipText(scrubPans(req.url.split('?')[0]!), 128), message: 'no such resource' }]));

  /** Authentication, the card-data screen and validation every request with a form body shares. */
  async function accept<R>(req: FastifyRequest, reply: FastifyReply,
    read: (p: FormParams) => { ok: true; value: R } | { ok: false; refusal: { code: string; parameterErrors: ParameterError[] } }) {
    const auth = await authenticate(req, reply, formOf(req));
    if (!auth) return undefined;
    const params = await screened(reply, auth.entity, formOf(req));
    if (!params) return undefined;
    const parsed = read(params);
    if (!parsed.ok) { await refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors); return undefined; }
    return { auth, request: parsed.value };
  }

  /** An initial payment (`POST /v1/payments`). */
  async function initialPayment(req: FastifyRequest, reply: FastifyReply) {
    // A stored card named by `registrationId` instead of card data: paid as /v1/registrations/{id}/payments would.
    const form = formOf(req);
    const registrationId = form.registrationId;
    if (typeof registrationId === 'string' && registrationId !== '' && Object.keys(form).some((k) => /^(card\.(?!cvv$)|bankAccount\.|paymentBrand$)/.test(k))) {
      // Which card to charge would be a guess: the stored one, or the one sent.
      const auth = await authenticate(req, reply, form);
      if (!auth) return reply;
      // The value is echoed only when it is an id (anything else, a card number included, is not).
      const echoed = /^[0-9a-f]{32}$/.test(registrationId) ? registrationId : null;
      return refuse(reply, 400, auth.entity.id, '200.300.404', [{ name: 'registrationId', value: echoed, message: 'send card data or a registrationId, not both' }]);
    }
    if (typeof registrationId === 'string' && registrationId !== '') {
      const stored = await accept(req, reply, readRegistrationPayment);
      if (!stored) return reply;
      return payWithRegistration(req, reply, stored.auth, stored.request, registrationId);
    }
    const accepted = await accept(req, reply, readInitial);
    if (!accepted) return reply;
    const { auth, request: r } = accepted;
    return answerInitial(req, reply, auth, r.testMode, await payNew(req, auth, r));
  }
  app.post('/payments', { schema: oppSchemas.pay }, initialPayment);

  /** How the engine is asked for a payment with a new card (or a bank transfer); a checkout's joins it. */
  const payNew = (req: FastifyRequest, auth: { merchant: Merchant; entity: Entity }, r: InitialRequest, checkout?: CheckoutRecord) => payments.pay({
    merchant: auth.merchant, scope: scopeOf(auth.entity), kind: kindOfInitial[r.type], amount: r.amount,
    ...(r.card ? { card: r.card } : {}), ...(r.bankTransfer ? { bankTransfer: r.bankTransfer } : {}),
    createRegistration: r.createRegistration, authentication: r.authentication, merchantInitiated: r.merchantInitiated, ...common(req, auth, r, checkout),
  });
  /** … and with a registration's stored card. */
  /**
   * A payment with a registration, which must still be enabled when its intent commits: a delete
   * acknowledged in between (a cardholder cancelling a subscription while it renews) refuses it.
   */
  const payStored = async (req: FastifyRequest, auth: { merchant: Merchant; entity: Entity }, r: RegistrationPaymentRequest, registration: Registration,
    checkout?: CheckoutRecord, renewal?: Renewal) => {
    let deregistered = false;
    const base = common(req, auth, r, checkout);
    const claim = base.join;
    const result = await payments.pay({
      merchant: auth.merchant, scope: scopeOf(auth.entity), kind: kindOfInitial[r.type], amount: r.amount,
      storedCard: {
        cardId: renewal ? renewal.sealed.record.id : registration.cardId, cvv: r.cvv, registrationId: registration.id,
        ...(renewal ? { renewed: { card: renewal.card, sealed: renewal.sealed } } : {}),
      },
      authentication: r.authentication, merchantInitiated: r.merchantInitiated, ...base,
      join: async (tx, paymentId) => {
        if (!(await registrations.holdFor(tx, registration.id, renewal, { testMode: r.testMode }))) { deregistered = true; return false; }
        return claim ? claim(tx, paymentId) : true;
      },
    });
    return { result, deregistered };
  };
  function common(req: FastifyRequest, auth: { entity: Entity }, r: Omit<RegistrationPaymentRequest, 'cvv' | 'merchantInitiated' | 'change'>, checkout: CheckoutRecord | undefined) {
    return {
      returnUrls: r.shopperResultUrl !== undefined ? [r.shopperResultUrl] : [], testSystemRequested: r.testMode !== undefined,
      shopperBaseUrl: deps.publicUrl ?? `${req.protocol}://${req.host}`,
      merchantTransactionId: r.merchantTransactionId, uniqueMerchantTransactionId: auth.entity.uniqueMerchantTransactionId,
      context: { ...contextOf(r.type, r), ...(checkout ? { checkoutId: checkout.id } : {}) }, testParameters: r.testParameters,
      ...(checkout ? { join: deps.checkouts.claimFor(checkout.id) } : {}),
    };
  }

  /** A payment refused by the engine, naming the field when a card check refused it. */
  function refusePayment(reply: FastifyReply, entityId: string, error: keyof typeof paymentErrorCodes) {
    const field = cardErrorFields[error];
    return refuse(reply, 400, entityId, paymentErrorCodes[error], field && [{ ...field, value: null }]);
  }

  /** Where a payment's redirect sends its shopper: the issuer's challenge posted like a 3-D Secure CReq, the bank's login page a plain link. */
  const challengeRedirect = (challenge: Pick<Challenge, 'id' | 'purpose'>, baseUrl: string) => challenge.purpose === '3ds'
    ? { url: threeds.urlOf(challenge, baseUrl), method: 'POST', parameters: [{ name: 'threeDSSessionData', value: challenge.id }] }
    : { url: threeds.urlOf(challenge, baseUrl), method: 'GET', parameters: [] };

  /** The answer to an initial payment, with the shopper's `redirect` when the payment awaits one. */
  function answerInitial(req: FastifyRequest, reply: FastifyReply, auth: { entity: Entity }, testMode: string | undefined, result: Awaited<ReturnType<PaymentService['pay']>>,
    extra: Record<string, unknown> = {}) {
    if (!result.ok) {
      if (result.error === 'return_url_required') {
        return refuse(reply, 400, auth.entity.id, paymentErrorCodes[result.error], [{ name: 'shopperResultUrl', value: null, message: returnUrlMessage }]);
      }
      if (result.error === 'test_system_on_live_merchant') {
        return refuse(reply, 400, auth.entity.id, '100.300.101', [{ name: 'testMode', value: testMode ?? null, message: 'not allowed for a live entity' }]);
      }
      if (result.error === 'not_allowed') return refuse(reply, 400, auth.entity.id, '700.400.700');
      return refusePayment(reply, auth.entity.id, result.error);
    }
    const body = { ...renderView(result.value, auth.entity), ...extra };
    const challenge = result.value.challenge;
    if (challenge) {
      // A PSP that runs 3-D Secure itself is reached through the same page of ours, which
      // forwards the shopper as the PSP asked: what the PSP put in its redirect (its own business,
      // the card number in some test systems) never passes through the merchant's server.
      body.redirect = challengeRedirect(challenge, deps.publicUrl ?? `${req.protocol}://${req.host}`);
    }
    return send(reply, httpStatusOf(codeOfView(result.value)), auth.entity.id, body);
  }

  app.post('/registrations', { schema: oppSchemas.register }, async (req, reply) => {
    const auth = await authenticate(req, reply, formOf(req));
    if (!auth) return reply;
    const params = await screened(reply, auth.entity, formOf(req));
    if (!params) return reply;
    const parsed = readRegistration(params);
    if (!parsed.ok) return refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors);
    const r = await registrations.register(auth.merchant, auth.entity, parsed.value.card, { testMode: parsed.value.testMode, echo: registrationEcho(parsed.value.echo) });
    if (!r.ok) return refusePayment(reply, auth.entity.id, r.error);
    return send(reply, 200, auth.entity.id, renderRegistration(r.value, successCodeOf(auth.merchant, parsed.value.testMode), parsed.value.echo));
  });

  app.post<{ Params: { id: string } }>('/registrations/:id/payments', { schema: oppSchemas.registrationPay }, async (req, reply) => {
    const accepted = await accept(req, reply, readRegistrationPayment);
    if (!accepted) return reply;
    return payWithRegistration(req, reply, accepted.auth, accepted.request, req.params.id);
  });

  /** A payment with a registration's stored card, named in the path or (on `/v1/payments`) by `registrationId`. */
  async function payWithRegistration(req: FastifyRequest, reply: FastifyReply, auth: { merchant: Merchant; entity: Entity }, r: RegistrationPaymentRequest, id: string) {
    const registration = idPattern.test(id)
      ? await registrations.usable(auth.merchant, auth.entity, id)
      : { ok: false as const, error: 'not_found' as const };
    if (!registration.ok) return refuse(reply, 400, auth.entity.id, registrationErrorCodes[registration.error]);
    // A renewed expiry or another brand of the card sent with the payment updates the registration with it.
    const renewal = await registrations.renewal(registration.value, r.change);
    if (!renewal.ok) {
      const e = renewal.error;
      return e === 'not_found' || e === 'deregistered' || e === 'unconfirmed' ? refuse(reply, 400, auth.entity.id, registrationErrorCodes[e]) : refusePayment(reply, auth.entity.id, e);
    }
    const paid = await payStored(req, auth, r, registration.value, undefined, renewal.value);
    if (paid.deregistered) return refuse(reply, 400, auth.entity.id, registrationErrorCodes.deregistered);
    return answerInitial(req, reply, auth, r.testMode, paid.result);
  }

  // The stored registration, masked card only; a deregistered one answers as it would to a payment.
  app.get<{ Params: { id: string } }>('/registrations/:id', { schema: oppSchemas.registrationGet }, async (req, reply) => {
    const auth = await authenticate(req, reply, queryOf(req));
    if (!auth) return reply;
    const r = idPattern.test(req.params.id)
      ? await registrations.usable(auth.merchant, auth.entity, req.params.id)
      : { ok: false as const, error: 'not_found' as const };
    if (!r.ok) return refuse(reply, 400, auth.entity.id, registrationErrorCodes[r.error]);
    return send(reply, 200, auth.entity.id, { ...renderRegistration(r.value, successCodeOf(auth.merchant, queryOf(req).testMode)), timestamp: oppTimestamp(r.value.updatedAt) });
  });

  app.delete<{ Params: { id: string } }>('/registrations/:id', { schema: oppSchemas.registrationDelete }, async (req, reply) => {
    const params = queryOf(req);
    const auth = await authenticate(req, reply, params);
    if (!auth) return reply;
    const r = idPattern.test(req.params.id)
      ? await registrations.deregister(auth.merchant, auth.entity, req.params.id, { testMode: params.testMode })
      : { ok: false as const, error: 'not_found' as const };
    if (!r.ok) return refuse(reply, 400, auth.entity.id, registrationErrorCodes[r.error]);
    return send(reply, 200, auth.entity.id, { id: r.value.id, result: resultOf(successCodeOf(auth.merchant, params.testMode)) });
  });

  app.post<{ Params: { id: string } }>('/payments/:id', { schema: oppSchemas.followUp }, async (req, reply) => {
    // `/v1/payments/` (an empty id, what a client sends for a payment it has no id of) is an initial
    // payment to the platform, and fails as one: the clients built on it expect that answer.
    if (req.params.id === '') return initialPayment(req, reply);
    const auth = await authenticate(req, reply, formOf(req));
    if (!auth) return reply;
    const params = await screened(reply, auth.entity, formOf(req));
    if (!params) return reply;
    const parsed = readBackOffice(params);
    if (!parsed.ok) return refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors);
    const r = parsed.value;
    // The reference's code and words for an unknown id (clients match them); the parameter error says what is wrong.
    const unknownPayment = () => refuse(reply, 400, auth.entity.id, notFoundCodes[r.type], [{
      name: 'id', value: clipText(scrubPans(req.params.id), 128), message: `no payment with this id for entity ${auth.entity.id}: send the id the original payment was answered with`,
    }]);
    if (!idPattern.test(req.params.id)) return unknownPayment();
    const result = await payments.followUp({
      merchant: auth.merchant, scope: scopeOf(auth.entity), kind: kindOfBackOffice[r.type], referencedId: req.params.id, amount: r.amount, currency: r.currency,
      merchantTransactionId: r.merchantTransactionId, context: r.echo, testParameters: r.testParameters, namesTransaction: true,
    });
    if (!result.ok) {
      if (result.error === 'not_found') return unknownPayment();
      return refusePayment(reply, auth.entity.id, result.error);
    }
    return send(reply, httpStatusOf(codeOfView(result.value)), auth.entity.id, renderView(result.value, auth.entity));
  });

  /** Reads one transaction for status and query calls; unknown and foreign ids answer 700.400.580. */
  async function lookup(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, throttled: boolean) {
    const params = queryOf(req);
    const auth = await authenticate(req, reply, params);
    if (!auth) return reply;
    const id = req.params.id;
    const view = idPattern.test(id) ? await payments.find(auth.merchant, scopeOf(auth.entity), id) : undefined;
    if (!view) return refuse(reply, 400, auth.entity.id, '700.400.580');
    if (throttled) {
      const t = await throttle.take(`opp-status:${id}`, deps.statusLimit.calls, deps.statusLimit.windowMs);
      if (!t.allowed) {
        reply.header('retry-after', String(Math.max(1, Math.ceil(t.retryAfterMs / 1000))));
        return refuse(reply, 429, auth.entity.id, '800.120.100');
      }
    }
    return send(reply, 200, auth.entity.id, { ...renderView(view, auth.entity), timestamp: oppTimestamp(view.operation.updatedAt) });
  }

  app.get<{ Params: { id: string } }>('/payments/:id', { schema: oppSchemas.status }, (req, reply) => lookup(req, reply, true));
  app.get<{ Params: { id: string } }>('/query/:id', { schema: oppSchemas.queryOne }, (req, reply) => lookup(req, reply, false));

  app.get('/query', { schema: oppSchemas.queryByReference }, async (req, reply) => {
    const auth = await authenticate(req, reply, queryOf(req));
    if (!auth) return reply;
    // The reference is looked up as it was stored: masked the same way when it holds a card number.
    const params = await screened(reply, auth.entity, queryOf(req));
    if (!params) return reply;
    const mtx = params.merchantTransactionId;
    if (mtx === undefined) return refuse(reply, 400, auth.entity.id, '200.300.404', [{ name: 'merchantTransactionId', value: null, message: 'may not be empty' }]);
    // As a payment's own reference: none holds a control character (value not echoed, for the same reason).
    if (hasControlCharacter(mtx)) return refuse(reply, 400, auth.entity.id, '200.300.404', [{ name: 'merchantTransactionId', value: null, message: 'must not contain control characters' }]);
    const paging = readQueryPage(params);
    if (!paging.ok) return refuse(reply, 400, auth.entity.id, paging.refusal.code, paging.refusal.parameterErrors);
    const { limit, pageNo } = paging.value;
    // The report API's filter (`paymentTypes=PA,CP`): honoured, never ignored (a client taking the
    // first of the list would take another type's transaction).
    const types = params.paymentTypes?.split(',').map((t) => t.trim());
    const unknownType = types?.find((t) => !isInitialType(t) && !isBackOfficeType(t));
    if (unknownType !== undefined) return refuse(reply, 400, auth.entity.id, '200.300.404', [{ name: 'paymentTypes', value: null, message: `must list payment types (${[...initialTypes, ...backOfficeTypes].join(', ')}), comma-separated` }]);
    const kinds = types?.map((t) => (isInitialType(t) ? kindOfInitial[t] : kindOfBackOffice[t as BackOfficeType]));
    let records = await payments.countByMerchantTransactionId(auth.merchant, auth.entity.id, mtx, kinds);
    if (records === 0) return refuse(reply, 400, auth.entity.id, '700.400.580');
    // Oldest first, so pages already read do not shift when new transactions join the reference. A
    // transaction is placed by when its request began, not when it committed: one that began before
    // a page was read and committed after (queued behind a commit) can still land inside that page.
    let views: PaymentView[];
    if (types && types.includes('DB') !== types.includes('PA.CP')) {
      // Both are sales to the engine, told apart only by the letters each was asked with: the
      // reference's sales are read and sorted here (a reference names a handful of transactions).
      if (records > typeSortLimit) {
        return refuse(reply, 400, auth.entity.id, '200.300.404', [{ name: 'paymentTypes', value: null, message: `DB and PA.CP are told apart for up to ${typeSortLimit} transactions of one reference: list both` }]);
      }
      const all = await payments.findByMerchantTransactionId(auth.merchant, auth.entity.id, mtx, { offset: 0, limit: records }, kinds);
      const listed = all.filter((v) => types.includes(paymentTypeOf(v.operation.kind, v.operation.context)));
      records = listed.length;
      if (records === 0) return refuse(reply, 400, auth.entity.id, '700.400.580');
      views = listed.slice((pageNo - 1) * limit, pageNo * limit);
    } else {
      views = await payments.findByMerchantTransactionId(auth.merchant, auth.entity.id, mtx, { offset: (pageNo - 1) * limit, limit }, kinds);
    }
    return send(reply, 200, auth.entity.id, {
      result: resultOf('000.000.100'),
      records, pageNo, pages: Math.ceil(records / limit),
      payments: views.map((v) => ({ ...renderView(v, auth.entity), timestamp: oppTimestamp(v.operation.updatedAt) })),
    });
  });

  // ---- COPYandPAY: the merchant's backend creates a checkout; the widget on the shopper's page pays it.

  app.post('/checkouts', { schema: oppSchemas.checkout }, async (req, reply) => {
    const accepted = await accept(req, reply, readCheckout);
    if (!accepted) return reply;
    const { auth, request: checkout } = accepted;
    for (const id of checkout.registrationIds) {
      const r = await registrations.usable(auth.merchant, auth.entity, id);
      // One not confirmed yet (its first payment has no outcome) may be by the time the shopper
      // pays, and one deregistered (the gateway takes back a registration whose payment ended before
      // any issuer saw the card, or that an issuer refused for good, and the shop may still hold its
      // id) is simply not offered: the widget offers only usable ones, and the shopper's checkout is
      // not refused for them.
      if (!r.ok && r.error === 'not_found') return refuse(reply, 400, auth.entity.id, registrationErrorCodes[r.error], [{ name: 'registrations', value: id, message: 'no usable registration of this entity' }]);
    }
    const c = await deps.checkouts.create({ merchantId: auth.merchant.id, entityId: auth.entity.id, ...checkout });
    return send(reply, 200, auth.entity.id, { result: resultOf('000.200.100'), id: c.id, ndc: c.id });
  });

  const noSession = (reply: FastifyReply, entityId: string | undefined) =>
    refuse(reply, 400, entityId, '200.300.404', [{ name: 'id', value: null, message: 'No payment session found for the requested id' }]);

  /** A checkout the widget may still pay, with its merchant and entity; undefined once the refusal is sent. */
  /** `known`: called once the checkout's merchant is known, before any answer (its CORS headers). */
  async function payableCheckout(reply: FastifyReply, id: string, known?: (merchantId: string) => Promise<void>) {
    const checkout = checkoutIdPattern.test(id) ? await deps.checkouts.get(id) : undefined;
    const merchant = checkout && await merchants.byId(checkout.merchantId);
    if (merchant) await known?.(merchant.id);
    const entity = merchant && checkout && await merchants.entityOf(merchant, checkout.entityId);
    const state = checkout && payable(checkout, clock.now());
    if (!checkout || !merchant || !entity || state === 'expired') { await noSession(reply, undefined); return undefined; }
    if (state === 'paid') { await refuseClaimed(reply, entity.id, checkout); return undefined; }
    return { checkout, auth: { merchant, entity } };
  }

  /**
   * A checkout another payment holds: paid once that payment went through; while its outcome is
   * still coming (at the PSP, or its shopper in a challenge) the session is only busy, and a
   * decline gives it back. Told "paid already" then, the widget sent its shopper to the result
   * page, where the merchant read the other tab's decline: a good card never let pay.
   */
  async function refuseClaimed(reply: FastifyReply, entityId: string, checkout: CheckoutRecord) {
    const held = checkout.paymentId !== undefined ? await payments.details(checkout.paymentId) : undefined;
    const initial = held && initialOf(held.operations);
    if (initial?.status === 'succeeded') return refuse(reply, 400, entityId, '200.300.404', [{ name: 'id', value: checkout.id, message: 'the checkout has been paid already' }]);
    // Its shopper's challenge is still open (they went Back from it to the shop's page): the way back
    // to it, which the widget offers, else the checkout stayed refused until the challenge expired.
    const open = initial?.status === 'awaiting' ? await threeds.openOf('payment', held!.payment.id) : undefined;
    return send(reply, 400, entityId, {
      result: resultOf('800.700.100', [{ name: 'id', value: checkout.id, message: 'a payment of this checkout is under way; try again once it has ended' }]),
      ...(open ? { redirect: challengeRedirect(open, deps.publicUrl ?? `${reply.request.protocol}://${reply.request.host}`) } : {}),
    });
  }

  // The widget's view of a checkout: what it shows the shopper (amount, saved cards masked), nothing more.
  app.get<{ Params: { id: string } }>('/checkouts/:id/widget', { schema: oppSchemas.checkoutWidget }, async (req, reply) => {
    reply.header('access-control-allow-origin', '*');
    const found = await payableCheckout(reply, req.params.id);
    if (!found) return reply;
    const { checkout, auth } = found;
    const saved = [];
    for (const id of checkout.registrationIds) {
      const r = await registrations.usable(auth.merchant, auth.entity, id);
      // A card past its expiry cannot be paid with (100.100.303): one-click does not offer it.
      if (r.ok && !isExpired(r.value.card.expiryMonth, r.value.card.expiryYear, clock.now())) saved.push({ id, brand: r.value.card.brand, last4Digits: r.value.card.last4, expiryMonth: r.value.card.expiryMonth, expiryYear: r.value.card.expiryYear, holder: r.value.card.holder ?? null });
    }
    return send(reply, 200, auth.entity.id, {
      result: resultOf('000.200.103'), id: checkout.id, ndc: checkout.id, amount: checkout.params.amount, currency: checkout.params.currency,
      paymentType: checkout.params.paymentType, registrations: saved, expiresAt: new Date(checkout.expiresAt).toISOString(),
    });
  });

  // What only the shopper's browser adds to a checkout: the card (from the gateway's own card frame),
  // a registration chosen for one-click, and the form's action as the result URL. The checkout's own
  // parameters always win, so the browser cannot change the amount or the type.
  const shopperFields = /^(card\.(number|holder|expiryMonth|expiryYear|cvv)|shopperResultUrl|customer\.browser\.[a-zA-Z]+)$/;

  app.post<{ Params: { id: string } }>('/checkouts/:id/payment', { schema: oppSchemas.checkoutPay }, async (req, reply) => {
    const form = formOf(req);
    // A card comes only from the gateway's own card frame (same origin: no CORS). Another page
    // posting one, whose answer it could read, would be a card-testing oracle in every visitor's
    // browser, and the number would have passed through the merchant's page.
    const origin = req.headers.origin;
    const foreign = origin !== undefined && origin !== new URL(deps.publicUrl ?? `${req.protocol}://${req.host}`).origin;
    if (foreign && Object.keys(form).some((k) => k.startsWith('card.'))) {
      return refuse(reply, 403, undefined, '800.900.301', [{ name: 'card.number', value: null, message: 'card data is taken only from the gateway\'s own card fields' }]);
    }
    // The widget's one-click pay posts from the shop's page: its answer is readable there, on a
    // registered origin (any, for a merchant that registered none: the checkout id is the credential).
    let allowed = !foreign;
    const found = await payableCheckout(reply, req.params.id, async (merchantId) => {
      if (!foreign) return;
      const origins = await merchants.origins(merchantId);
      allowed = origins.length === 0 || origins.includes(origin);
      if (allowed) reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    });
    if (!found) return reply;
    const { checkout, auth } = found;
    // A page the merchant did not register pays nothing with the shopper's saved cards either.
    if (!allowed) return refuse(reply, 403, auth.entity.id, '800.900.301', [{ name: 'id', value: checkout.id, message: 'not from one of the merchant\'s registered origins' }]);
    // Declines on one checkout are counted (before the try, so tries at once count against one
    // another; one that proves no decline is given back): past the limit the checkout takes no
    // more payments, so a checkout id taken from a shop's page is not a way to test stolen cards.
    const tries = await throttle.take(`opp-checkout-declines:${checkout.id}`, checkoutDeclineLimit, checkoutLifetimeMs);
    if (!tries.allowed) {
      return refuse(reply, 429, auth.entity.id, '800.120.100', [{ name: 'id', value: checkout.id, message: `${checkoutDeclineLimit} payments were declined on this checkout; a new checkout is needed` }]);
    }
    let declined = false;
    try {
      return await payCheckout(req, reply, form, checkout, auth, (result) => { declined = result.ok && result.value.operation.status === 'failed'; });
    } finally {
      if (!declined) await throttle.giveBack(`opp-checkout-declines:${checkout.id}`, tries.at);
    }
  });

  async function payCheckout(req: FastifyRequest, reply: FastifyReply, form: FormParams, checkout: CheckoutRecord, auth: { merchant: Merchant; entity: Entity },
    seen: (result: Awaited<ReturnType<PaymentService['pay']>>) => void) {
    const fromShopper = Object.fromEntries(Object.entries(form).filter(([k]) => shopperFields.test(k)));
    const merged: FormParams = Object.assign(Object.create(null), fromShopper, checkout.params);
    // A result URL the browser names (the checkout named none): anyone holding the checkout id could
    // send the shopper anywhere after 3-D Secure. A merchant that registered its origins gets its
    // shoppers sent back to them only.
    if (checkout.params.shopperResultUrl === undefined && fromShopper.shopperResultUrl !== undefined) {
      const origins = await merchants.origins(auth.merchant.id);
      let origin: string | undefined;
      try { origin = new URL(fromShopper.shopperResultUrl).origin; } catch { origin = undefined; }
      if (origins.length > 0 && (origin === undefined || !origins.includes(origin))) {
        return refuse(reply, 400, auth.entity.id, '600.300.211', [{ name: 'shopperResultUrl', value: null, message: 'not on one of the merchant\'s registered origins' }]);
      }
    }
    const params = await screened(reply, auth.entity, merged);
    if (!params) return reply;
    const resultUrl = (op: { id: string }) => {
      const url = params.shopperResultUrl;
      if (url === undefined) return undefined;
      const u = new URL(url);
      u.searchParams.set('id', checkout.id);
      u.searchParams.set('resourcePath', `/v1/checkouts/${checkout.id}/payment`);
      return { resultUrl: u.toString(), ndc: checkout.id, paymentId: op.id };
    };
    const answer = async (testMode: string | undefined, result: Awaited<ReturnType<PaymentService['pay']>>) => {
      seen(result);
      if (!result.ok && result.error === 'not_allowed') {
        // The payment's own unit of work could not claim the checkout: another payment got there first.
        return refuseClaimed(reply, auth.entity.id, (await deps.checkouts.get(checkout.id)) ?? checkout);
      }
      return answerInitial(req, reply, auth, testMode, result, result.ok ? resultUrl(result.value.operation) : {});
    };
    const registrationId = form.registrationId;
    if (registrationId !== undefined) {
      if (!checkout.registrationIds.includes(registrationId)) return refuse(reply, 400, auth.entity.id, '100.150.200');
      const registration = await registrations.usable(auth.merchant, auth.entity, registrationId);
      if (!registration.ok) return refuse(reply, 400, auth.entity.id, registrationErrorCodes[registration.error]);
      const { createRegistration: _ignored, ...rest } = params;
      const parsed = readRegistrationPayment(rest);
      if (!parsed.ok) return refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors);
      const paid = await payStored(req, auth, parsed.value, registration.value, checkout);
      if (paid.deregistered) return refuse(reply, 400, auth.entity.id, registrationErrorCodes.deregistered);
      return answer(parsed.value.testMode, paid.result);
    }
    // The brand is the number's own; the form's data-brands say which the shop takes, as a named
    // brand takes cards (a Visa Electron card is paid as VISA where the shop lists VISA alone, as
    // the widget showed it and as a server-to-server payment names it).
    const detected = params['card.number'] !== undefined ? detectBrand(params['card.number']) : undefined;
    const accepted = typeof form.brands === 'string' ? form.brands.split(/\s+/) : undefined;
    const brand = detected && accepted ? listedBrandFor(detected, accepted) : detected;
    if (detected && !brand) {
      return refuse(reply, 400, auth.entity.id, '100.100.501', [{ name: 'paymentBrand', value: detected, message: 'this brand is not accepted here' }]);
    }
    const parsed = readInitial(Object.assign(Object.create(null), params, brand ? { paymentBrand: brand } : {}));
    if (!parsed.ok) return refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors);
    return answer(parsed.value.testMode, await payNew(req, auth, parsed.value, checkout));
  }

  // The merchant's backend reads the checkout's payment through the resourcePath the shopper brought back.
  app.get<{ Params: { id: string } }>('/checkouts/:id/payment', { schema: oppSchemas.checkoutPayment }, async (req, reply) => {
    const auth = await authenticate(req, reply, queryOf(req));
    if (!auth) return reply;
    const id = req.params.id;
    const checkout = checkoutIdPattern.test(id) ? await deps.checkouts.get(id) : undefined;
    const mine = checkout && checkout.merchantId === auth.merchant.id && checkout.entityId === auth.entity.id ? checkout : undefined;
    if (!mine || !sessionFound(mine, clock.now())) return noSession(reply, auth.entity.id);
    const t = await throttle.take(`opp-status:${id}`, deps.statusLimit.calls, deps.statusLimit.windowMs);
    if (!t.allowed) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(t.retryAfterMs / 1000))));
      return send(reply, 429, auth.entity.id, { result: resultOf('800.120.100'), ndc: mine.id });
    }
    const view = mine.paymentId !== undefined ? await payments.find(auth.merchant, scopeOf(auth.entity), mine.paymentId) : undefined;
    if (!view) return send(reply, 200, auth.entity.id, { id: mine.id, result: resultOf('000.200.000'), ndc: mine.id });
    return send(reply, 200, auth.entity.id, { ...renderView(view, auth.entity), timestamp: oppTimestamp(view.operation.updatedAt), ndc: mine.id });
  });

  app.get('/paymentWidgets.js', { schema: oppSchemas.widgetScript }, async (_req, reply) => reply.header('content-type', 'application/javascript; charset=utf-8')
    .header('cache-control', 'public, max-age=300').header('access-control-allow-origin', '*').header('x-content-type-options', 'nosniff')
    .send(await widgetScript()));

  app.get('/resultcodes', { schema: oppSchemas.resultCodes }, async (_req, reply) => send(reply, 200, undefined, {
    result: resultOf('000.000.100'),
    resultCodes: Object.entries(resultCodes).map(([code, description]) => ({ code, description })),
  }));
}
