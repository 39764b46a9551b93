import { emptyAnswer, object, str, textAnswer } from '../runtime/json-schema.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../runtime/clock.ts';
import type { Throttle } from '../throttle/service.ts';
import { sourceOf } from '../runtime/source-address.ts';
import { challengeOutcomes, type ChallengeOutcome } from './model.ts';
import { hostedPaths, type ThreeDsService } from './service.ts';
import { forwardScriptSource, hostedCss, renderChallengePage, renderDemoReturnPage, renderEndedPage, renderForwardPage } from './page.ts';
import type { Challenge, ChallengePurpose } from './store.ts';
import { isStoreUnavailable } from '../storage/unavailable.ts';

const idPattern = /^[0-9a-f]{32}$/;

/**
 * Headers of every hosted page: nothing but our own stylesheet loads, the page cannot be framed,
 * forms post only to us and to the merchant's return origins (browsers check form-action on the
 * redirect that follows a submission too), and no copy is cached or sent on as a referrer.
 */
export function secureHosted(reply: FastifyReply, formOrigins: readonly string[], scripts: readonly string[] = [], connectSelf = false): FastifyReply {
  const formAction = ["'self'", ...formOrigins].join(' ');
  const scriptSrc = scripts.length > 0 ? `; script-src ${scripts.join(' ')}${connectSelf ? "; connect-src 'self'" : ''}` : '';
  return reply
    .header('content-security-policy', `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'${scriptSrc}`)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store');
}

/**
 * The form-action of a page whose form ends at the merchant's return URL. Browsers check it on
 * every redirect after the submission, and a return URL may redirect on (a PSP's return endpoint
 * passes the shopper on to its own merchant; a shop may send them to another page of its own), so
 * listing the return URL's origin alone would block the shopper half-way: any https page, and for a
 * test merchant's loopback return URL (plain http is allowed nowhere else) any port of that host
 * too (from which the shop may send them on to an https page).
 */
export function returnFormOrigins(returnOrigins: readonly string[]): string[] {
  if (returnOrigins.length === 0) return [];
  const loopback = returnOrigins.map((o) => new URL(o)).filter((u) => u.protocol !== 'https:').map((u) => `${u.protocol}//${u.host.replace(/:\d+$/, '')}:*`);
  return [...new Set(['https:', ...loopback])];
}

/** Sends a hosted page with the headers of {@link secureHosted}. */
export const hostedHtml = (reply: FastifyReply, status: number, body: string, formOrigins: readonly string[] = [], scripts: readonly string[] = [], connectSelf = false) =>
  secureHosted(reply, formOrigins, scripts, connectSelf).code(status).type('text/html; charset=utf-8').send(body);

/** The shopper-facing challenge pages under `/hosted/`: shown by GET or POST (as `redirect.method` says). */
const page = textAnswer('An HTML page.', 'text/html');
const ended = textAnswer('The page that says the session is unknown, used or expired.', 'text/html');
const sessionParams = object({ id: str('The session id from the payment\'s redirect.') }, ['id']);
const pageSchema = (purpose: ChallengePurpose, method: string) => ({
  summary: purpose === '3ds' ? `The simulated issuer's 3-D Secure challenge (${method}, as the redirect says)` : `The simulated bank's login page (${method})`,
  tags: ['hosted pages'], params: sessionParams,
  ...(method === 'POST' ? { consumes: ['application/x-www-form-urlencoded'], body: object({ threeDSSessionData: { description: 'Informative; the path names the session.' } }) } : {}),
  response: method === 'POST' ? { 303: emptyAnswer('On to the same page by GET.'), 404: ended } : { 200: page, 404: ended, 410: ended },
});
const resultSchema = (purpose: ChallengePurpose) => ({
  summary: purpose === '3ds' ? "The shopper's answer to the challenge" : "The shopper's answer at the bank",
  tags: ['hosted pages'], params: sessionParams, consumes: ['application/x-www-form-urlencoded'],
  // Checked by the handler, which answers the hosted page saying so.
  body: object({ outcome: { description: `The simulated answer: ${challengeOutcomes.join(', ')}.` } }),
  response: { 303: emptyAnswer("On to the merchant's return URL."), 400: ended, 404: ended, 410: ended },
});

const pspReturnSchema = (method: 'GET' | 'POST') => ({
  summary: `The shopper back from a PSP that ran the 3-D Secure challenge (${method}, as the PSP sends them)`,
  description: 'The payment is finished with the PSP (its own fields arrive in the query or as a form), then the shopper goes on to the merchant.',
  tags: ['hosted pages'],
  params: object({ paymentId: str('The payment.'), attemptId: str('The attempt the PSP was asked.') }, ['paymentId', 'attemptId']),
  ...(method === 'POST' ? { consumes: ['application/x-www-form-urlencoded'] } : {}),
  response: { 303: emptyAnswer("On to the merchant's return URL."), 404: ended, 429: textAnswer('More than five returns for one attempt from one address within a minute: reload in a moment (Retry-After).', 'text/html') },
});

/**
 * Returns taken per attempt from one source address a minute. The address needs no credential, and
 * a return may make a call to the PSP under the merchant's key (Adyen's details of a
 * `redirectResult`, which only Adyen can check). Counted per source, requests of a stranger (a
 * prefetch, a link scanner, whoever knows the payment's id) never use up the shopper's own returns.
 */
export const pspReturnLimit = { calls: 5, windowMs: 60_000 } as const;

/** A return over its source's limit, thrown out of the handler before it asks or writes anything. */
class ReturnRefused extends Error {
  retryAfterMs = 0;
}

export async function registerHostedChallengeRoutes(app: FastifyInstance, deps: { threeds: ThreeDsService; clock: Clock; throttle: Throttle }): Promise<void> {
  const { threeds, clock, throttle } = deps;

  // The redirect may be a POST form; its fields are informative only, the path names the session. A
  // PSP posting the shopper back may send a large one (Adyen's redirectResult runs to 16 KiB, a 3-D
  // Secure 1 PaRes often past 8 KiB): refusing it would lose an authentication the shopper finished.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  // What a shopper's browser is answered here is a page, refusals too (an oversize or unreadable body).
  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    // The database cannot serve the page now (a restart, a failover): the shopper reloads it, as a
    // client sends again any request refused so.
    if (isStoreUnavailable(err)) {
      req.log.warn({ err: String(err) }, 'hosted page refused: the store is unavailable');
      reply.header('retry-after', '1');
      return hostedHtml(reply, 503, renderEndedPage('unavailable'));
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err: String(err) }, 'hosted page failure');
    return hostedHtml(reply, status, renderEndedPage(status === 500 ? 'failed' : 'invalid'));
  });

  app.get('/hosted/assets/hosted.css', { schema: { summary: 'The stylesheet of the hosted pages', tags: ['hosted pages'], response: { 200: textAnswer('CSS.', 'text/css') } } }, (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(hostedCss));

  app.get('/hosted/return', { schema: { summary: 'Where test payments without a shopperResultUrl of their own come back to: shows the outcome', tags: ['hosted pages'], response: { 200: textAnswer('An HTML page.', 'text/html') } } }, (req, reply) =>
    hostedHtml(reply, 200, renderDemoReturnPage(new URLSearchParams(req.raw.url?.split('?')[1] ?? ''))));

  async function load(purpose: ChallengePurpose, id: string): Promise<Challenge | undefined> {
    if (!idPattern.test(id)) return undefined;
    const c = await threeds.get(id);
    return c && c.purpose === purpose ? c : undefined;
  }

  // The shopper back from a PSP that ran the challenge: the PSP's fields arrive in the query (GET)
  // or as a form (POST); the payment is finished with the PSP before the browser moves on.
  const pspReturn = async (req: FastifyRequest<{ Params: { paymentId: string; attemptId: string } }>, reply: FastifyReply) => {
    const { paymentId, attemptId } = req.params;
    if (!idPattern.test(paymentId) || !idPattern.test(attemptId)) return hostedHtml(reply, 404, renderEndedPage('not_found'));
    // Counted once the return is known to name an attempt that has one: every request of a
    // stranger guessing addresses would otherwise be a write of the store.
    const admit = async () => {
      const counted = await throttle.take(`psp-return:${attemptId}:${sourceOf(req.ip)}`, pspReturnLimit.calls, pspReturnLimit.windowMs);
      if (!counted.allowed) throw Object.assign(new ReturnRefused(), { retryAfterMs: counted.retryAfterMs });
    };
    const query = Object.fromEntries(new URLSearchParams(req.raw.url?.split('?')[1] ?? ''));
    const form = typeof req.body === 'object' && req.body !== null ? req.body as Record<string, string> : {};
    let next: string | undefined;
    try {
      next = await threeds.returned(paymentId, attemptId, { ...query, ...form }, admit);
    } catch (err) {
      if (!(err instanceof ReturnRefused)) throw err;
      reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
      return hostedHtml(reply, 429, renderEndedPage('unavailable'));
    }
    if (!next) return hostedHtml(reply, 404, renderEndedPage('not_found'));
    return secureHosted(reply, []).code(303).header('location', next).send();
  };
  app.get<{ Params: { paymentId: string; attemptId: string } }>('/hosted/psp-return/:paymentId/:attemptId', { schema: pspReturnSchema('GET') }, pspReturn);
  app.post<{ Params: { paymentId: string; attemptId: string } }>('/hosted/psp-return/:paymentId/:attemptId', { schema: pspReturnSchema('POST') }, pspReturn);

  for (const purpose of Object.keys(hostedPaths) as ChallengePurpose[]) {
    const base = hostedPaths[purpose];
    const show = async (id: string, reply: FastifyReply) => {
      const c = await load(purpose, id);
      if (!c) return hostedHtml(reply, 404, renderEndedPage('not_found'));
      if (c.status !== 'open') {
        // Back from the merchant's page reloads an answered challenge: refused as answered, with the
        // way to where the payment now sends the shopper (as a second tab answering it is sent),
        // not a dead end.
        const back = await threeds.whereNow(c);
        return hostedHtml(reply, 410, renderEndedPage(c.status === 'expired' ? 'expired' : 'used', back));
      }
      if (c.expiresAt <= clock.now()) {
        // Past its expiry, not swept yet: the payment ends now and the shopper goes back to the merchant.
        const back = await threeds.lapsed(c);
        return back ? secureHosted(reply, returnFormOrigins(c.returnOrigins)).code(303).header('location', back).send() : hostedHtml(reply, 410, renderEndedPage('expired'));
      }
      const psp = c.pspRedirect;
      if (psp) {
        // The PSP runs this challenge: the shopper goes on to its page, as it asked.
        // Browsers hold every redirect after the form's submission to its form-action: the PSP's
        // page, the issuer's (any https origin a PSP sends on to), our return endpoint, the merchant's.
        if (psp.method === 'POST') {
          const origins = [...new Set([new URL(psp.url).origin, 'https:', ...returnFormOrigins(c.returnOrigins)])];
          return hostedHtml(reply, 200, renderForwardPage(c, psp), origins, [forwardScriptSource]);
        }
        const url = new URL(psp.url);
        for (const p of psp.parameters) url.searchParams.set(p.name, p.value);
        return secureHosted(reply, []).code(303).header('location', url.href).send();
      }
      return hostedHtml(reply, 200, renderChallengePage(c, `${base}/${c.id}/result`), returnFormOrigins(c.returnOrigins));
    };
    app.get<{ Params: { id: string } }>(`${base}/:id`, { schema: pageSchema(purpose, 'GET') }, (req, reply) => show(req.params.id, reply));
    // A shop's redirect may open the page with a form (POST): answered with the page, it left a
    // history entry the browser cannot show again, and Back from the shop's result page was
    // Chromium's own "Confirm Form Resubmission" error. Sent on to the page by GET (post/redirect/get),
    // Back shows the page as it is now: answered, with the way back to the shop.
    app.post<{ Params: { id: string } }>(`${base}/:id`, { schema: pageSchema(purpose, 'POST') }, (req, reply) => idPattern.test(req.params.id)
      ? secureHosted(reply, []).code(303).header('location', `${base}/${req.params.id}`).send()
      : hostedHtml(reply, 404, renderEndedPage('not_found')));

    app.post<{ Params: { id: string }; Body: Record<string, string> | undefined }>(`${base}/:id/result`, { schema: resultSchema(purpose) }, async (req, reply) => {
      const c = await load(purpose, req.params.id);
      // A PSP-run challenge is answered only by the PSP (through the shopper's return), never here.
      if (!c || c.pspRedirect) return hostedHtml(reply, 404, renderEndedPage('not_found'));
      const outcome = req.body?.outcome;
      if (!(challengeOutcomes as readonly string[]).includes(outcome ?? '')) {
        return hostedHtml(reply, 400, renderEndedPage('invalid'));
      }
      const finished = await threeds.finish(c.id, outcome as ChallengeOutcome);
      if (!finished.ok) return hostedHtml(reply, finished.error === 'not_found' ? 404 : 410, renderEndedPage(finished.error));
      // 303: the browser follows with a GET, so a reload on the merchant's page cannot resubmit.
      return secureHosted(reply, returnFormOrigins(c.returnOrigins)).code(303).header('location', finished.value).send();
    });
  }
}
