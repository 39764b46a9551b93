import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Money } from '../money/money.ts';
import { isCurrency } from '../money/money.ts';
import { decideFollowUp, initialOf, totalsOf } from '../payments/model.ts';
import { parseFilter } from '../search/model.ts';
import { newFormToken } from './service.ts';
import { IdempotencyClaimLost } from '../idempotency/service.ts';
import { isStoreUnavailable } from '../storage/unavailable.ts';
import { canAct, canConfigure, mayView, sessionTtl, signInThrottle, type DashboardUser } from './model.ts';
import { html, type Html } from './html.ts';
import { notice, actionNotice, page, publicPage } from './layout.ts';
import { amountText, parseAmount } from './format.ts';
import { exampleAmount } from '../money/money.ts';
import { confirmPage, paymentListPage, paymentPage, type ActionOffer, type PaymentStory, type RefusedAmount } from './payment-pages.ts';
import { auditPage } from './audit-page.ts';
import {
  cookieOf, formOf, parseForm, sameOriginPost, sameToken, securityHeaders, sessionCookie, setCookie, signInCookie,
} from './security.ts';
import { dashboardSchemas } from './schemas.ts';
import { registerConfigRoutes } from './config-routes.ts';
import { registerReconciliationRoutes } from './reconciliation-routes.ts';
import type { ActionKind, DashboardDeps } from './deps.ts';
import { contextOf, sendPage } from './reply.ts';
import { safeNext } from './next-page.ts';
import { overviewPage } from './overview-page.ts';
import { latestActionOf } from './action-outcome.ts';

// A Map: looked up by the name a request gives, a plain object would find `__proto__` or `toString`.
const assets = new Map(
  [['dashboard.css', 'text/css; charset=utf-8'], ['dashboard.js', 'text/javascript; charset=utf-8']].map(([f, type]) =>
    [f!, { type: type!, body: readFileSync(join(import.meta.dirname, 'assets', f!)) }]),
);

/**
 * The operator dashboard (register with prefix `/dashboard`): server-rendered pages, a session
 * cookie, a CSRF token on every form and an Origin check on every post, an audit entry for every
 * action. Pages need no script; the one small script only adds conveniences.
 */
export async function registerDashboardRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const { auth, search, payments, merchants, workflows } = deps;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, parseForm(String(body)));
  });
  app.addHook('onRequest', async (_req, reply) => { securityHeaders(reply); });
  // The routes' schemas (schemas.ts) document the pages and forms; each form answers its own faults
  // on its page, as it did before the schemas, so nothing is refused before the handler runs.
  app.setValidatorCompiler(() => () => true);
  app.setNotFoundHandler(async (_req, reply) => sendPage(reply, publicPage('Not found', html`<p>There is no such page. <a href="/dashboard">Back to the dashboard</a></p>`), 404));
  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    if (isStoreUnavailable(err)) {
      req.log.warn({ err: String(err) }, 'dashboard request refused: the store cannot serve it now');
      reply.header('retry-after', '1');
      return sendPage(reply, publicPage('Not available now', html`<p>The gateway cannot serve this page now; nothing was changed. Try again shortly. <a href="/dashboard">Back to the dashboard</a></p>`), 503);
    }
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err: String(err) }, 'dashboard failure');
    return sendPage(reply, publicPage(status === 500 ? 'Something went wrong' : 'Bad request', html`<p>${status === 500 ? 'The gateway could not answer this page. Try again.' : 'The request could not be read.'} <a href="/dashboard">Back to the dashboard</a></p>`), status);
  });

  const isPublic = (url: string) => url.startsWith('/dashboard/assets/') || url.startsWith('/dashboard/sign-in');
  // A post from another site is refused before its body is read, whatever its type (a multipart
  // form would otherwise be refused as an unreadable body first, and leave no trace): it changes
  // nothing and is written to the audit log.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'POST' || sameOriginPost(req, deps.publicUrl)) return;
    const s = await auth.session(cookieOf(req, sessionCookie) ?? '');
    await auth.audit({ user: s?.user, ip: req.ip }, { action: 'request.cross_site', outcome: 'refused', subject: req.url.split('?')[0] });
    return sendPage(reply, publicPage('Refused', html`<p>This form was not sent from the dashboard's own pages.</p>`), 403);
  });
  // Every page but sign-in and the static files needs a session; every post also needs the session's
  // CSRF token. A refused post changes nothing and is written to the audit log.
  app.addHook('preHandler', async (req, reply) => {
    const url = req.url;
    if (isPublic(url)) return;
    const session = await auth.session(cookieOf(req, sessionCookie) ?? '');
    if (!session) {
      // Back to the page asked for after signing in, as safeNext allows: an address it throws away (a
      // card number in it, which would sit in the sign-in page; longer than it keeps, which encoded
      // again made a Location header clients refuse to read) is the overview's.
      if (req.method === 'GET') return reply.redirect(`/dashboard/sign-in?next=${encodeURIComponent(safeNext(url))}`, 303);
      return sendPage(reply, publicPage('Signed out', html`<p>Your session has ended. <a href="/dashboard/sign-in">Sign in again</a></p>`), 401);
    }
    req.dashboard = session;
    if (req.method === 'POST' && !sameToken(formOf(req)._csrf, session.csrfToken)) {
      await auth.audit({ user: session.user, ip: req.ip }, { action: 'request.csrf', outcome: 'refused', subject: url.split('?')[0] });
      return sendPage(reply, publicPage('Refused', html`<p>This form has expired or was not sent from the dashboard. <a href="/dashboard">Back to the dashboard</a></p>`), 403);
    }
  });

  app.get<{ Params: { file: string } }>('/assets/:file', { schema: dashboardSchemas.asset }, async (req, reply) => {
    const a = assets.get(req.params.file);
    if (!a) return reply.callNotFound();
    return reply.header('cache-control', 'public, max-age=300').type(a.type).send(a.body);
  });

  // ---- sign-in and sign-out
  const signInForm = (reply: FastifyReply, next: string, message: Html | undefined, status = 200) => {
    const token = newFormToken();
    setCookie(reply, signInCookie, token, 3600);
    return sendPage(reply, publicPage('Sign in', html`${message ?? ''}<form class="signin" method="post" action="/dashboard/sign-in">
<input type="hidden" name="_csrf" value="${token}">
<input type="hidden" name="next" value="${next}">
<div><label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required autofocus></div>
<div><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
<button type="submit">Sign in</button>
</form>`), status);
  };
  app.get<{ Querystring: { next?: string } }>('/sign-in', { schema: dashboardSchemas.signInPage }, async (req, reply) => signInForm(reply, safeNext(req.query.next), undefined));
  app.post('/sign-in', { schema: dashboardSchemas.signIn }, async (req, reply) => {
    const f = formOf(req);
    const next = safeNext(f.next);
    if (!sameToken(f._csrf, cookieOf(req, signInCookie))) {
      await auth.audit({ user: undefined, email: String(f.email ?? ''), ip: req.ip }, { action: 'request.csrf', outcome: 'refused', subject: '/dashboard/sign-in' });
      return signInForm(reply, next, notice('error', 'The sign-in form expired. Please try again.'), 403);
    }
    const r = await auth.signIn(String(f.email ?? ''), String(f.password ?? ''), req.ip);
    if (!r.ok) {
      if (r.error === 'throttled') {
        // The window is rolling: its full length is the longest the address may have to wait.
        reply.header('retry-after', String(signInThrottle.windowMs / 1000));
        return signInForm(reply, next, notice('error', `Too many failed sign-ins from your network: sign-in from here is paused for up to ${signInThrottle.windowMs / 60_000} minutes. Try again later.`), 429);
      }
      // A locked account answers as a wrong password does: "locked" would tell a stranger that the
      // email is a user's (an unknown email never locks). The audit log says which it was.
      return signInForm(reply, next, notice('error', 'The email or password is wrong.'), 401);
    }
    setCookie(reply, sessionCookie, r.value.token, sessionTtl.maxMs / 1000);
    setCookie(reply, signInCookie, '', 0);
    return reply.redirect(next, 303);
  });
  app.post('/sign-out', { schema: dashboardSchemas.signOut }, async (req, reply) => {
    await auth.signOut(cookieOf(req, sessionCookie) ?? '', req.ip);
    setCookie(reply, sessionCookie, '', 0);
    return reply.redirect('/dashboard/sign-in', 303);
  });

  // ---- payments
  const merchantOptions = async (u: DashboardUser) => (await merchants.list())
    .filter(({ merchant }) => mayView(u, merchant.id)).map(({ merchant }) => ({ id: merchant.id, name: merchant.name }));
  const accountOptions = async (u: DashboardUser, merchantIds: string[]) => {
    const names = new Map(merchantIds.length > 1 ? (await merchants.list()).map(({ merchant }) => [merchant.id, merchant.name] as const) : []);
    const lists = await Promise.all(merchantIds.filter((id) => mayView(u, id)).map(async (id) => (await workflows.accounts(id))
      .map((a) => ({ id: a.id, label: names.size > 1 ? `${a.name} (${names.get(id) ?? id})` : a.name }))));
    return lists.flat();
  };

  app.get<{ Querystring: Record<string, string> }>('/payments', { schema: dashboardSchemas.payments }, async (req, reply) => {
    const ctx = contextOf(req, 'payments');
    const u = ctx.user;
    // A box given twice (a hand-made address) is read as its first value, in an address that says
    // so: dropped, a card number in it would stay in the address bar, never masked below.
    const given = Object.entries(req.query as Record<string, string | string[]>);
    if (given.some(([, v]) => Array.isArray(v))) {
      return reply.redirect(`/dashboard/payments?${new URLSearchParams(given.map(([k, v]) => [k, Array.isArray(v) ? String(v[0] ?? '') : v])).toString()}`, 303);
    }
    const query = Object.fromEntries(given) as Record<string, string>;
    // A card number typed into the search box leaves the address bar (and the page, its links and
    // the browser's history) at once, for its masked form, which finds what it would have found. A
    // PSP's numeric reference can pass the card-number check too (an Adyen pspReference is 16
    // digits): one that names a payment this user may see is a reference, and is searched as typed.
    if (query.q !== undefined) {
      const q = query.q.trim();
      const masked = deps.maskCardNumbers(query.q);
      if (masked !== query.q) {
        const named = await search.list({ q, limit: 5, ...(u.merchantId !== undefined ? { merchantId: u.merchantId } : {}) });
        // Any of the payment's operations: a refund's or a capture's PSP reference names it too.
        const names = async (id: string) => ((await deps.payments.details(id))?.operations ?? []).some((o) => o.pspReference === q || o.id === q);
        const isReference = named.payments.some((p) => p.pspReference === q || p.id === q || p.operationId === q)
          || (await Promise.all(named.payments.map((p) => names(p.id)))).some(Boolean);
        if (!isReference) return reply.redirect(`/dashboard/payments?${new URLSearchParams({ ...query, q: masked }).toString()}`, 303);
      }
    }
    // The same for every other box (an amount, a currency, a date): what the form would print back.
    const maskedOthers = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, k === 'q' ? v : deps.maskCardNumbers(v)]));
    if (Object.entries(maskedOthers).some(([k, v]) => v !== query[k])) {
      return reply.redirect(`/dashboard/payments?${new URLSearchParams(maskedOthers).toString()}`, 303);
    }
    const parsed = parseFilter(query);
    const ms = await merchantOptions(u);
    const accounts = await accountOptions(u, u.merchantId !== undefined ? [u.merchantId] : query.merchant ? [query.merchant] : ms.map((m) => m.id));
    if (!parsed.ok) return sendPage(reply, paymentListPage(ctx, { query, filter: undefined, problem: parsed.error, result: undefined, merchants: ms, accounts }), 400);
    // A merchant-scoped user's list is that merchant's, whatever the query says.
    const filter = u.merchantId !== undefined ? { ...parsed.value, merchantId: u.merchantId } : parsed.value;
    const result = await search.list(filter);
    return sendPage(reply, paymentListPage(ctx, { query, filter, problem: undefined, result, merchants: ms, accounts }));
  });

  /** The payment if this user may see it; another merchant's payment is "not found", never "forbidden". */
  const visiblePayment = async (u: DashboardUser, id: string) => {
    const details = /^[0-9a-f]{32}$/.test(id) ? await payments.details(id) : undefined;
    return details && mayView(u, details.payment.merchantId) ? details : undefined;
  };

  const offersOf = async (d: NonNullable<Awaited<ReturnType<typeof payments.details>>>): Promise<ActionOffer[]> => {
    const ops = d.operations;
    const initial = initialOf(ops);
    const currency = d.payment.currency;
    if (!isCurrency(currency)) return [];
    const t = totalsOf(ops);
    const awaitsReceipt = d.payment.method === 'bank_transfer';
    // The engine's own rules decide what is offered: one minor unit stands for "some amount".
    const allowed = (kind: ActionKind) => decideFollowUp(ops, { kind, amount: kind === 'void' ? undefined : { amount: 1, currency }, target: initial, awaitsReceipt }).ok;
    const offers: ActionOffer[] = [];
    if (allowed('capture')) offers.push({ kind: 'capture', max: t.authorized - t.captured - t.inFlightCaptures });
    // A bank transfer gives back only what its bank's receipts confirmed arrived, as the engine holds it.
    if (allowed('refund')) offers.push({ kind: 'refund', max: (awaitsReceipt ? t.received : t.captured) - t.refunded - t.inFlightRefunds });
    // An executions payment's void is its cancel told to void only: once anything is captured its
    // dialect has no void of the rest, so none is offered.
    if (allowed('void') && (d.payment.channel !== 'executions' || t.captured === 0)) offers.push({ kind: 'void', max: t.authorized - t.captured });
    // Offered only where the payment's dialect would take it too: a button that can only be refused is none.
    const open = await Promise.all(offers.map((o) => o.max > 0 && deps.dialectAllows(d.payment, o.kind)));
    return offers.filter((_, i) => open[i]);
  };

  const story = async (d: NonNullable<Awaited<ReturnType<typeof payments.details>>>): Promise<PaymentStory> => {
    const [summary, related, postings, accounts] = await Promise.all([
      search.list({ id: d.payment.id, limit: 1 }),
      search.related(d.payment.id, d.operations.map((o) => o.id)),
      deps.ledger.paymentPostings(d.payment.id),
      workflows.accounts(d.payment.merchantId),
    ]);
    const s = summary.payments[0];
    const t = totalsOf(d.operations);
    return {
      payment: d.payment, merchantName: s?.merchantName ?? d.payment.merchantId, operations: d.operations, attempts: d.attempts, related, postings,
      card: s?.card, accountNames: new Map(accounts.map((a) => [a.id, a.name])),
      totals: { authorized: t.authorized, captured: t.captured, refunded: t.refunded, chargedBack: t.chargedBack },
    };
  };

  const showPayment = async (req: FastifyRequest, reply: FastifyReply, id: string, message: Html | undefined, status = 200, refused?: RefusedAmount) => {
    const ctx = contextOf(req, 'payments');
    const d = await visiblePayment(ctx.user, id);
    if (!d) return sendPage(reply, page(ctx, 'No such payment', html`<p>No payment <span class="mono">${id}</span> is visible to you. <a href="/dashboard/payments">All payments</a></p>`), 404);
    return sendPage(reply, paymentPage(ctx, await story(d), canAct(ctx.user) ? await offersOf(d) : [], message, refused), status);
  };

  app.get<{ Params: { id: string }; Querystring: { done?: string; refused?: string } }>('/payments/:id', { schema: dashboardSchemas.payment }, async (req, reply) => {
    const { done, refused } = req.query;
    const d = done ? await payments.details(req.params.id) : undefined;
    // An action's result page names its kind: the latest action of that kind is its outcome.
    const op = done === 'capture' || done === 'refund' || done === 'void' ? undefined : d?.operations.find((o) => o.id === done);
    const outcome = done === 'capture' || done === 'refund' || done === 'void' ? d && latestActionOf(d.operations, done)
      : op && { status: op.status, text: `${op.kind[0]!.toUpperCase()}${op.kind.slice(1)} ${op.status} (${amountText(op.amount.amount, op.amount.currency)})${op.reason ? `: ${op.reason}` : ''}.` };
    const message = outcome
      ? actionNotice(outcome.status === 'failed' ? 'error' : 'ok', outcome.text)
      : typeof refused === 'string' && /^[a-z_]{1,64}$/.test(refused) ? actionNotice('error', `The gateway refused: ${refused.replaceAll('_', ' ')}.`) : undefined;
    return showPayment(req, reply, req.params.id, message);
  });

  for (const kind of ['capture', 'refund', 'void'] as const) {
    app.post<{ Params: { id: string } }>(`/payments/:id/${kind}`, { schema: dashboardSchemas.action(kind) }, async (req, reply) => {
      const ctx = contextOf(req, 'payments');
      const u = ctx.user;
      const f = formOf(req);
      const id = req.params.id;
      const d = await visiblePayment(u, id);
      const audit = (outcome: 'ok' | 'refused' | 'failed', detail: Record<string, unknown>) =>
        auth.audit({ user: u, ip: req.ip }, { action: `payment.${kind}`, subject: id, outcome, merchantId: d?.payment.merchantId, detail });
      if (!d) {
        await audit('refused', { reason: 'not_found' });
        return showPayment(req, reply, id, undefined, 404);
      }
      if (!canAct(u)) {
        await audit('refused', { reason: 'role', role: u.role });
        return sendPage(reply, page(ctx, 'Not allowed', html`<p>Your role (${u.role}) cannot act on payments. <a href="/dashboard/payments/${id}">Back to the payment</a></p>`), 403);
      }
      const currency = d.payment.currency;
      const amountField = String(f.amount ?? '');
      const amount = kind === 'void' ? undefined : parseAmount(amountField, currency);
      if (kind !== 'void' && amount === undefined) {
        // A confirmed action refused is one the audit log tells; a first form sent with a typo is not an action yet.
        if (f.confirmed === 'yes') await audit('refused', { reason: 'amount_invalid' });
        // Told at its own box too, which keeps what was typed to correct it: masked of card numbers
        // before it is cut (cut first, a number across the cut would no longer read as one).
        const why = `The ${kind} amount must be a positive amount in ${currency}, such as ${exampleAmount(currency)}.`;
        return showPayment(req, reply, id, actionNotice('error', why), 400, { kind, typed: deps.maskCardNumbers(amountField).slice(0, 64), message: why });
      }
      // More than the page offers is refused at its box, before any confirmation: asked to confirm
      // it, the operator was then refused by the engine on a page that had forgotten what was typed.
      const offer = amount !== undefined ? (await offersOf(d)).find((o) => o.kind === kind) : undefined;
      if (amount !== undefined && offer !== undefined && amount > offer.max) {
        if (f.confirmed === 'yes') await audit('refused', { reason: 'amount_over', amount: amountText(amount, currency) });
        const why = `The ${kind} amount may be at most ${amountText(offer.max, currency)}.`;
        return showPayment(req, reply, id, actionNotice('error', why), 400, { kind, typed: deps.maskCardNumbers(amountField).slice(0, 64), message: why });
      }
      if (f.confirmed !== 'yes') return sendPage(reply, confirmPage(ctx, d.payment, kind, amount, amountField, randomUUID()));
      // The confirmation's one-time key: a double click, or the form sent again from the browser's
      // history, finds the first submission's result instead of moving the money again.
      const actionKey = typeof f.actionKey === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(f.actionKey) ? f.actionKey.toLowerCase() : undefined;
      const amountDetail = amount !== undefined ? { amount: amountText(amount, currency) } : {};
      if (!actionKey) {
        await audit('refused', { reason: 'confirmation_missing', ...amountDetail });
        return showPayment(req, reply, id, actionNotice('error', 'This confirmation could not be read: confirm the action again.'), 400);
      }
      const admission = await deps.idempotency.admit(d.payment.merchantId, actionKey, `dashboard ${kind} ${id}`, { amount: amountField });
      if (admission.kind === 'replay') return reply.redirect(admission.body, 303);
      if (admission.kind === 'conflict') {
        const reason = admission.reason === 'in_flight' ? 'confirmation_in_progress' : 'confirmation_used';
        await audit('refused', { reason, ...amountDetail });
        return reply.redirect(`/dashboard/payments/${id}?refused=${reason}`, 303);
      }
      // Post/redirect/get: reloading the page shows the result again and never repeats the action.
      // The key's answer commits with the operation it records, so no failure after that commit
      // (a crash, the audit row) leaves the key free for the money to move again.
      const done = `/dashboard/payments/${id}?done=${kind}`;
      let r: Awaited<ReturnType<typeof deps.act>>;
      try {
        r = await deps.act({
          payment: d.payment, kind, amount: amount === undefined ? undefined : { amount, currency: currency as Money['currency'] },
          join: (tx) => deps.idempotency.completeIn(tx, admission.claim, 303, done),
        });
      } catch (err) {
        // A later post of this confirmation took the key over while this one stalled: its answer stands.
        if (err instanceof IdempotencyClaimLost) {
          await audit('refused', { reason: 'confirmation_in_progress', ...amountDetail });
          return reply.redirect(`/dashboard/payments/${id}?refused=confirmation_in_progress`, 303);
        }
        // Frees the key only if the action's unit of work never committed it.
        await deps.idempotency.release(admission.claim);
        throw err;
      }
      if (!r.ok) {
        const refusedAt = `/dashboard/payments/${id}?refused=${encodeURIComponent(r.error)}`;
        await deps.idempotency.complete(admission.claim, 303, refusedAt);
        await audit('refused', { reason: r.error, ...(amount !== undefined ? { amount: amountText(amount, currency) } : {}) });
        return reply.redirect(refusedAt, 303);
      }
      const after = await payments.details(id);
      const outcome = after && latestActionOf(after.operations, kind);
      const status = outcome?.status ?? 'pending';
      const reason = outcome?.operations.find((o) => o.status === 'failed')?.reason;
      await audit(status === 'failed' ? 'failed' : 'ok', {
        ...(amount !== undefined ? { amount: amountText(amount, currency) } : {}), operationIds: outcome?.operations.map((o) => o.id) ?? [], status, ...(reason ? { reason } : {}),
      });
      return reply.redirect(done, 303);
    });
  }

  // ---- audit log
  app.get<{ Querystring: { before?: string } }>('/audit', { schema: dashboardSchemas.audit }, async (req, reply) => {
    const ctx = contextOf(req, 'audit');
    if (!canConfigure(ctx.user)) return sendPage(reply, page(ctx, 'Not allowed', html`<p>Only admins read the audit log.</p>`), 403);
    // A cursor that names no time an entry can have (past the safe integers) starts from the newest.
    const m = /^(\d{1,16})\.([0-9a-f]{32})$/.exec(req.query.before ?? '');
    const before = m && Number.isSafeInteger(Number(m[1])) ? { at: Number(m[1]), id: m[2]! } : undefined;
    const entries = await auth.auditLog({ merchantId: ctx.user.merchantId, before, limit: 100 });
    return sendPage(reply, auditPage(ctx, entries));
  });

  app.get('/', { schema: dashboardSchemas.overview }, async (req, reply) => sendPage(reply, await overviewPage(contextOf(req, 'overview'), deps)));

  await registerConfigRoutes(app, deps);
  registerReconciliationRoutes(app, deps);
}

