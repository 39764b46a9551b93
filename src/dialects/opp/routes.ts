import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../runtime/clock.ts';
import type { Entity, Merchant } from '../../merchants/model.ts';
import type { MerchantService } from '../../merchants/service.ts';
import type { PaymentService, PaymentView, Scope } from '../../payments/service.ts';
import { resultCodes } from '../../processors/result-codes.ts';
import type { Throttle } from '../../throttle/service.ts';
import type { ThreeDsService } from '../../threeds/service.ts';
import type { RegistrationService } from '../../vault/registrations.ts';
import { successCodeByMode } from '../../processors/result-codes.ts';
import { scrubPans } from '../../runtime/scrub.ts';
import { FormError, parseForm, type FormParams } from './form.ts';
import { newNdc, oppTimestamp, resultOf, type ParameterError } from './envelope.ts';
import { httpStatusOf, notFoundCodes, paymentErrorCodes, registrationErrorCodes } from './result-map.ts';
import { codeOfView, renderRegistration, renderTransaction } from './render.ts';
import { kindOfBackOffice, kindOfInitial, type InitialType } from './payment-types.ts';
import { readBackOffice, readInitial, readQueryPage, readRegistration, readRegistrationPayment, screenCardData } from './validate.ts';
import type { CardDataScreen } from '../../vault/free-text.ts';

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
}

const idPattern = /^[0-9a-f]{32}$/;

/** The `/v1` payments dialect (register with prefix `/v1`): parses its form bodies, calls the engine, shapes its answers. */
export async function registerOppRoutes(app: FastifyInstance, deps: OppDeps): Promise<void> {
  const { merchants, payments, throttle, threeds, registrations, clock, buildNumber } = deps;

  function send(reply: FastifyReply, status: number, entityId: string | undefined, body: Record<string, unknown>) {
    const envelope = { ...body, buildNumber, timestamp: body.timestamp ?? oppTimestamp(clock.now()), ndc: newNdc(entityId) };
    return reply.code(status).header('content-type', 'application/json;charset=UTF-8').header('cache-control', 'no-store').send(envelope);
  }
  const refuse = (reply: FastifyReply, status: number, entityId: string | undefined, code: string, errors?: ParameterError[]) =>
    send(reply, status, entityId, { result: resultOf(code, errors) });

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
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      byHeader = m ? await merchants.byAccessToken(m[1]!) : undefined;
      if (!byHeader) return undefined;
    }
    if (!legacy) return byHeader;
    const byPair = userId !== undefined && password !== undefined ? await merchants.byUserPassword(userId, password) : undefined;
    if (!byPair || (byHeader && byHeader.id !== byPair.id)) return undefined;
    return byPair;
  }

  /** Caller, then entity: 401 + 800.900.300 unless both belong together (decision 2 for foreign entities). */
  async function authenticate(req: FastifyRequest, reply: FastifyReply, params: FormParams): Promise<{ merchant: Merchant; entity: Entity } | undefined> {
    const merchant = await caller(req, params);
    const given = params.entityId ?? params['authentication.entityId'];
    // Only a well-formed id goes into the ndc; anything else the client sent is not reflected.
    const entityId = given !== undefined && idPattern.test(given) ? given : undefined;
    // Both spellings of the entity sent: they name one entity or the request is not authenticated.
    const conflicting = params.entityId !== undefined && params['authentication.entityId'] !== undefined && params.entityId !== params['authentication.entityId'];
    if (!merchant || conflicting) {
      reply.header('www-authenticate', 'Bearer realm="switchyard", error="invalid_token", error_description="Invalid Authorization header!"');
      await refuse(reply, 401, entityId, '800.900.300');
      return undefined;
    }
    if (given === undefined) {
      await refuse(reply, 400, undefined, '200.300.404', [{ name: 'entityId', value: null, message: 'may not be empty' }]);
      return undefined;
    }
    const entity = entityId !== undefined ? await merchants.entityOf(merchant, entityId) : undefined;
    if (!entity) {
      await refuse(reply, 401, entityId, '800.900.300');
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
  /** A registration has no test-mode switch of its own: integrator test for test merchants. */
  const successCodeOf = (m: Merchant) => successCodeByMode[m.live ? 'LIVE' : 'INTERNAL'];

  // Forms are the dialect's only body format; any other body type is read as a form too, so a
  // mislabelled request gets a parameter error instead of a 415 outside the envelope.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/x-www-form-urlencoded', '*'], { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    try { done(null, parseForm(String(body))); } catch (err) { done(err as Error, undefined); }
  });

  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof FormError || (err.statusCode && err.statusCode < 500)) {
      const status = err.statusCode === 413 ? 413 : 400;
      return refuse(reply, status, undefined, '200.300.404', [{ name: 'body', value: null, message: err instanceof FormError ? err.message : 'request body could not be read' }]);
    }
    req.log.error({ err: { message: err.message, stack: err.stack } }, 'request failed');
    return refuse(reply, 500, undefined, '999.999.999');
  });

  // The path is echoed to help the integrator, but never a card number someone put into it.
  app.setNotFoundHandler((req, reply) => refuse(reply, 404, undefined, '200.300.404', [{ name: 'path', value: scrubPans(req.url.split('?')[0]!).slice(0, 128), message: 'no such resource' }]));

  /** Authentication, validation and the live/test check every initial payment request shares. */
  async function acceptInitial<R extends { testMode: string | undefined }>(req: FastifyRequest, reply: FastifyReply,
    read: (p: FormParams) => { ok: true; value: R } | { ok: false; refusal: { code: string; parameterErrors: ParameterError[] } }) {
    const auth = await authenticate(req, reply, formOf(req));
    if (!auth) return undefined;
    const params = await screened(reply, auth.entity, formOf(req));
    if (!params) return undefined;
    const parsed = read(params);
    if (!parsed.ok) { await refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors); return undefined; }
    return { auth, request: parsed.value };
  }

  app.post('/payments', async (req, reply) => {
    const accepted = await acceptInitial(req, reply, readInitial);
    if (!accepted) return reply;
    const { auth, request: r } = accepted;
    return answerInitial(req, reply, auth, r.testMode, await payments.pay({
      merchant: auth.merchant, scope: scopeOf(auth.entity), kind: kindOfInitial[r.type], amount: r.amount,
      ...(r.card ? { card: r.card } : {}), ...(r.bankTransfer ? { bankTransfer: r.bankTransfer } : {}),
      createRegistration: r.createRegistration, authentication: r.authentication,
      returnUrls: r.shopperResultUrl !== undefined ? [r.shopperResultUrl] : [], testSystemRequested: r.testMode !== undefined,
      shopperBaseUrl: deps.publicUrl ?? `${req.protocol}://${req.host}`,
      merchantTransactionId: r.merchantTransactionId, uniqueMerchantTransactionId: auth.entity.uniqueMerchantTransactionId,
      context: contextOf(r.type, r), testParameters: r.testParameters,
    }));
  });

  /** The answer to an initial payment, with the shopper's `redirect` when the payment awaits one. */
  function answerInitial(req: FastifyRequest, reply: FastifyReply, auth: { entity: Entity }, testMode: string | undefined, result: Awaited<ReturnType<PaymentService['pay']>>) {
    if (!result.ok) {
      if (result.error === 'test_system_on_live_merchant') {
        return refuse(reply, 400, auth.entity.id, '100.300.101', [{ name: 'testMode', value: testMode ?? null, message: 'not allowed for a live entity' }]);
      }
      return refuse(reply, 400, auth.entity.id, result.error === 'not_allowed' ? '700.400.700' : paymentErrorCodes[result.error]);
    }
    const body = renderView(result.value, auth.entity);
    const challenge = result.value.challenge;
    if (challenge?.pspRedirect) {
      // The PSP runs 3-D Secure itself: its redirect goes to the shopper as the PSP gave it.
      const { url, method, parameters } = challenge.pspRedirect;
      body.redirect = { url, method, parameters: parameters.map((p) => ({ name: p.name, value: p.value })) };
    } else if (challenge) {
      // The issuer's challenge is posted like a 3-D Secure CReq; the bank's login page is a plain link.
      const baseUrl = deps.publicUrl ?? `${req.protocol}://${req.host}`;
      body.redirect = challenge.purpose === '3ds'
        ? { url: threeds.urlOf(challenge, baseUrl), method: 'POST', parameters: [{ name: 'threeDSSessionData', value: challenge.id }] }
        : { url: threeds.urlOf(challenge, baseUrl), method: 'GET', parameters: [] };
    }
    return send(reply, httpStatusOf(codeOfView(result.value)), auth.entity.id, body);
  }

  app.post('/registrations', async (req, reply) => {
    const auth = await authenticate(req, reply, formOf(req));
    if (!auth) return reply;
    const params = await screened(reply, auth.entity, formOf(req));
    if (!params) return reply;
    const parsed = readRegistration(params);
    if (!parsed.ok) return refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors);
    const r = await registrations.register(auth.merchant, auth.entity, parsed.value.card);
    if (!r.ok) return refuse(reply, 400, auth.entity.id, paymentErrorCodes[r.error]);
    return send(reply, 200, auth.entity.id, renderRegistration(r.value, successCodeOf(auth.merchant), parsed.value.echo));
  });

  app.post<{ Params: { id: string } }>('/registrations/:id/payments', async (req, reply) => {
    const accepted = await acceptInitial(req, reply, readRegistrationPayment);
    if (!accepted) return reply;
    const { auth, request: r } = accepted;
    const registration = idPattern.test(req.params.id)
      ? await registrations.usable(auth.merchant, auth.entity, req.params.id)
      : { ok: false as const, error: 'not_found' as const };
    if (!registration.ok) return refuse(reply, 400, auth.entity.id, registrationErrorCodes[registration.error]);
    return answerInitial(req, reply, auth, r.testMode, await payments.pay({
      merchant: auth.merchant, scope: scopeOf(auth.entity), kind: kindOfInitial[r.type], amount: r.amount,
      storedCard: { cardId: registration.value.cardId, cvv: r.cvv, registrationId: registration.value.id },
      authentication: r.authentication, merchantInitiated: r.merchantInitiated,
      returnUrls: r.shopperResultUrl !== undefined ? [r.shopperResultUrl] : [], testSystemRequested: r.testMode !== undefined,
      shopperBaseUrl: deps.publicUrl ?? `${req.protocol}://${req.host}`,
      merchantTransactionId: r.merchantTransactionId, uniqueMerchantTransactionId: auth.entity.uniqueMerchantTransactionId,
      context: contextOf(r.type, r), testParameters: r.testParameters,
    }));
  });

  // The stored registration, masked card only; a deregistered one answers as it would to a payment.
  app.get<{ Params: { id: string } }>('/registrations/:id', async (req, reply) => {
    const auth = await authenticate(req, reply, queryOf(req));
    if (!auth) return reply;
    const r = idPattern.test(req.params.id)
      ? await registrations.usable(auth.merchant, auth.entity, req.params.id)
      : { ok: false as const, error: 'not_found' as const };
    if (!r.ok) return refuse(reply, 400, auth.entity.id, registrationErrorCodes[r.error]);
    return send(reply, 200, auth.entity.id, { ...renderRegistration(r.value, successCodeOf(auth.merchant)), timestamp: oppTimestamp(r.value.updatedAt) });
  });

  app.delete<{ Params: { id: string } }>('/registrations/:id', async (req, reply) => {
    const params = queryOf(req);
    const auth = await authenticate(req, reply, params);
    if (!auth) return reply;
    const r = idPattern.test(req.params.id)
      ? await registrations.deregister(auth.merchant, auth.entity, req.params.id)
      : { ok: false as const, error: 'not_found' as const };
    if (!r.ok) return refuse(reply, 400, auth.entity.id, registrationErrorCodes[r.error]);
    return send(reply, 200, auth.entity.id, { id: r.value.id, result: resultOf(successCodeOf(auth.merchant)) });
  });

  app.post<{ Params: { id: string } }>('/payments/:id', async (req, reply) => {
    const auth = await authenticate(req, reply, formOf(req));
    if (!auth) return reply;
    const params = await screened(reply, auth.entity, formOf(req));
    if (!params) return reply;
    const parsed = readBackOffice(params);
    if (!parsed.ok) return refuse(reply, 400, auth.entity.id, parsed.refusal.code, parsed.refusal.parameterErrors);
    const r = parsed.value;
    if (!idPattern.test(req.params.id)) return refuse(reply, 400, auth.entity.id, notFoundCodes[r.type]);
    const result = await payments.followUp({
      merchant: auth.merchant, scope: scopeOf(auth.entity), kind: kindOfBackOffice[r.type], referencedId: req.params.id, amount: r.amount,
      merchantTransactionId: r.merchantTransactionId, context: r.echo, testParameters: r.testParameters,
    });
    if (!result.ok) {
      const code = result.error === 'not_found' ? notFoundCodes[r.type] : paymentErrorCodes[result.error];
      return refuse(reply, 400, auth.entity.id, code);
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

  app.get<{ Params: { id: string } }>('/payments/:id', (req, reply) => lookup(req, reply, true));
  app.get<{ Params: { id: string } }>('/query/:id', (req, reply) => lookup(req, reply, false));

  app.get('/query', async (req, reply) => {
    const auth = await authenticate(req, reply, queryOf(req));
    if (!auth) return reply;
    // The reference is looked up as it was stored: masked the same way when it holds a card number.
    const params = await screened(reply, auth.entity, queryOf(req));
    if (!params) return reply;
    const mtx = params.merchantTransactionId;
    if (mtx === undefined) return refuse(reply, 400, auth.entity.id, '200.300.404', [{ name: 'merchantTransactionId', value: null, message: 'may not be empty' }]);
    const paging = readQueryPage(params);
    if (!paging.ok) return refuse(reply, 400, auth.entity.id, paging.refusal.code, paging.refusal.parameterErrors);
    const { limit, pageNo } = paging.value;
    const records = await payments.countByMerchantTransactionId(auth.merchant, auth.entity.id, mtx);
    if (records === 0) return refuse(reply, 400, auth.entity.id, '700.400.580');
    // Oldest first, so pages already read never shift when new transactions join the reference.
    const views = await payments.findByMerchantTransactionId(auth.merchant, auth.entity.id, mtx, { offset: (pageNo - 1) * limit, limit });
    return send(reply, 200, auth.entity.id, {
      result: resultOf('000.000.100'),
      records, pageNo, pages: Math.ceil(records / limit),
      payments: views.map((v) => ({ ...renderView(v, auth.entity), timestamp: oppTimestamp(v.operation.updatedAt) })),
    });
  });

  app.get('/resultcodes', async (_req, reply) => send(reply, 200, undefined, {
    result: resultOf('000.000.100'),
    resultCodes: Object.entries(resultCodes).map(([code, description]) => ({ code, description })),
  }));
}
