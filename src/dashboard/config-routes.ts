import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Merchant } from '../merchants/model.ts';
import type { Tx } from '../storage/unit-of-work.ts';
import type { DashboardDeps } from './deps.ts';
import { canConfigure, isGatewayAdmin, mayView } from './model.ts';
import { html } from './html.ts';
import { actionNotice, page, type PageContext } from './layout.ts';
import { contextOf, sendPage } from './reply.ts';
import { allValues, formOf } from './security.ts';
import { dashboardSchemas } from './schemas.ts';
import type { RouteSchema } from '../runtime/json-schema.ts';
import { holdsCardNumber } from '../runtime/scrub.ts';
import { type RefusedForm, alreadyCreatedPage, credentialSecrets, endpointConfirmPage, endpointPage, keysPage, merchantPage, merchantsPage, rotateConfirmPage, rotatedSecrets, secretPage, sentBeforePage } from './config-pages.ts';
import { credentialDialects, isCredentialDialect, merchantNameProblem } from '../merchants/model.ts';
import { removalRefusals } from '../workflows/service.ts';
import { baseUrlOf } from '../processors/settings.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Whose idempotency keys the dashboard's forms that belong to no merchant yet (a new merchant) use. */
const dashboardFormScope = 'dashboard';

/**
 * Configuration pages, for admins (a merchant-scoped admin configures its own merchant only):
 * each form calls the same service the admin API and the CLI call, and writes an audit entry.
 */
/** Deliveries an endpoint's page lists at a time, newest first. */
const deliveriesPerPage = 100;

export async function registerConfigRoutes(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const { auth, merchants, workflows, webhooks } = deps;

  // A refusal may quote what was typed (an unknown account name, a webhook type): a card number
  // pasted there is not printed back.
  const refusal = (text: string) => actionNotice('error', deps.maskCardNumbers(text));
  const refuse = (reply: FastifyReply, ctx: PageContext, status: number, text: string) =>
    sendPage(reply, page(ctx, status === 404 ? 'Not found' : 'Not allowed', html`<p>${text} <a href="/dashboard">Back to the dashboard</a></p>`), status);

  /** The admin's page context, or the refusal already sent. */
  const adminContext = async (req: FastifyRequest, reply: FastifyReply, section: PageContext['section']) => {
    const ctx = contextOf(req, section);
    if (canConfigure(ctx.user)) return ctx;
    if (req.method === 'POST') await auth.audit({ user: ctx.user, ip: req.ip }, { action: 'config.change', outcome: 'refused', subject: req.url, detail: { reason: 'role' } });
    await refuse(reply, ctx, 403, 'Only admins configure the gateway.');
    return undefined;
  };
  const merchantFor = async (req: FastifyRequest, reply: FastifyReply, ctx: PageContext, id: string): Promise<Merchant | undefined> => {
    const m = /^[0-9a-f]{32}$/.test(id) && mayView(ctx.user, id) ? await merchants.byId(id) : undefined;
    if (!m) {
      await auditUnseen(req, ctx);
      await refuse(reply, ctx, 404, 'No such merchant is visible to you.');
    }
    return m;
  };
  /** A change asked of a merchant or endpoint this operator may not see is refused as any other, and on record. */
  const auditUnseen = async (req: FastifyRequest, ctx: PageContext) => {
    if (req.method === 'POST') await auth.audit({ user: ctx.user, ip: req.ip }, { action: 'config.change', outcome: 'refused', subject: req.url, detail: { reason: 'not_found' } });
  };
  const audit = (req: FastifyRequest, ctx: PageContext, action: string, merchantId: string | undefined, ok: boolean, detail: Record<string, unknown>, subject?: string) =>
    auth.audit({ user: ctx.user, ip: req.ip }, { action, outcome: ok ? 'ok' : 'refused', merchantId, detail, ...(subject ? { subject } : {}) });

  const showMerchants = async (ctx: PageContext, reply: FastifyReply, message?: ReturnType<typeof actionNotice>, status = 200) => {
    const list = (await merchants.list()).filter(({ merchant }) => mayView(ctx.user, merchant.id));
    return sendPage(reply, merchantsPage(ctx, list, isGatewayAdmin(ctx.user), message), status);
  };
  app.get('/merchants', { schema: dashboardSchemas.merchants }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'merchants');
    return ctx ? showMerchants(ctx, reply) : reply;
  });
  app.post('/merchants', { schema: dashboardSchemas.createMerchant }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'merchants');
    if (!ctx) return reply;
    if (!isGatewayAdmin(ctx.user)) {
      await auth.audit({ user: ctx.user, ip: req.ip }, { action: 'merchant.create', outcome: 'refused', subject: req.url, detail: { reason: 'scope' } });
      return refuse(reply, ctx, 403, 'Only an admin of the whole gateway creates merchants.');
    }
    const f = formOf(req);
    const name = String(f.name ?? '').trim();
    if (!name || name.length > 200) return showMerchants(ctx, reply, actionNotice('error', 'A name (up to 200 characters) is required.'), 400);
    const problem = merchantNameProblem(name);
    if (problem) return showMerchants(ctx, reply, actionNotice('error', `The name ${problem}.`), 400);
    // The form's one-time key: a double click, or the form sent again from the browser's history,
    // finds the merchant the first submission made instead of making a second one.
    const formKey = typeof f.formKey === 'string' && uuidPattern.test(f.formKey) ? f.formKey.toLowerCase() : undefined;
    if (!formKey) return showMerchants(ctx, reply, actionNotice('error', 'This form could not be read: fill it in again.'), 400);
    const request = { name, live: f.live === 'yes', unique: f.unique === 'yes' };
    const admission = await deps.idempotency.admit(dashboardFormScope, formKey, 'dashboard merchant.create', request);
    if (admission.kind === 'replay') return sendPage(reply, alreadyCreatedPage(ctx, admission.body));
    if (admission.kind === 'conflict') {
      const why = admission.reason === 'in_flight' ? 'This form is being sent already: see the merchants list in a moment.' : 'This form was sent before with other values: fill it in again.';
      return showMerchants(ctx, reply, actionNotice('error', why), 409);
    }
    let created: Awaited<ReturnType<typeof merchants.create>>;
    try {
      // Only the new merchant's id is kept with the key, in the merchant's own unit of work: its
      // secrets are shown on this answer alone.
      created = await merchants.create({ name, live: request.live, uniqueMerchantTransactionId: request.unique },
        (tx, merchantId) => deps.idempotency.completeIn(tx, admission.claim, 201, merchantId));
    } catch (err) {
      // Frees the key only if the merchant's unit of work never committed it.
      await deps.idempotency.release(admission.claim);
      throw err;
    }
    await audit(req, ctx, 'merchant.create', created.merchantId, true, { name, live: request.live }, created.merchantId);
    return sendPage(reply, secretPage(ctx, `Merchant ${name} created`, 'These are the merchant\'s credentials.', credentialSecrets(created), `/dashboard/merchants/${created.merchantId}`), 201);
  });

  const showMerchant = async (ctx: PageContext, reply: FastifyReply, m: Merchant, message?: ReturnType<typeof actionNotice>, status = 200, refused?: RefusedForm) => {
    const all = await merchants.list();
    const [origins, accounts, workflow, endpoints] = await Promise.all([
      merchants.origins(m.id), workflows.accounts(m.id), workflows.workflow(m.id, 'payment-acceptance'), webhooks.listEndpoints(m.id),
    ]);
    const entities = all.find((x) => x.merchant.id === m.id)?.entities ?? [];
    // What the operator configures at the PSP (Adyen, Stripe) for its webhooks.
    const notificationUrls = new Map(accounts.flatMap((a) => {
      const url = workflows.notificationUrlOf(a, deps.publicUrl ?? '');
      return url ? [[a.name, url] as const] : [];
    }));
    return sendPage(reply, merchantPage({ ...ctx, section: 'merchants' }, { merchant: m, entities, origins, accounts, notificationUrls, workflow, endpoints }, message, refused), status);
  };
  /**
   * A refused merchant-page form: the box at fault (`box`, its id) marked and described, and what
   * was typed in the form's boxes (`boxes`: box id to form field) given back, masked of card numbers.
   */
  const refusedForm = (f: Record<string, string>, boxes: Readonly<Record<string, string>>, box: string | undefined, message: string): RefusedForm => ({
    box, message: deps.maskCardNumbers(message),
    typed: Object.fromEntries(Object.entries(boxes).map(([id, field]) => [id, givenBack(allValues(f, field).join(','))])),
  });
  /**
   * What was typed, to be shown again: masked of card numbers, and not shown at all when it still
   * holds digits that read as one in any grouping (a URL refused for the number in its dotted
   * query would otherwise print that number back).
   */
  const givenBack = (typed: string) => {
    const masked = deps.maskCardNumbers(typed).slice(0, 2000);
    return holdsCardNumber(masked, 'any') ? '' : masked;
  };
  app.get<{ Params: { id: string } }>('/merchants/:id', { schema: dashboardSchemas.merchant }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'merchants');
    const m = ctx && await merchantFor(req, reply, ctx, req.params.id);
    return ctx && m ? showMerchant(ctx, reply, m) : reply;
  });

  /**
   * Runs a form's effect once for its one-time key: a form sent again (a reload of the answer that
   * showed new secrets, Back and send, a double click) is answered `again(what the first did)`
   * instead of making the change a second time, which cut off the secret just shown (a rotation)
   * or added a second endpoint delivering every event twice. The key is answered in the change's
   * own unit of work (`run` hands `answered(kept)` to the service as its `join`): written apart, a
   * failure between the two left the change made and the key open, for a later sending to take over
   * and make it again.
   */
  async function onceForForm<T extends { ok: boolean }>(reply: FastifyReply, ctx: PageContext, f: Record<string, string>, operation: string, request: Record<string, unknown>,
    again: (kept: string) => string, run: (answered: (kept: string) => (tx: Tx) => Promise<void>) => Promise<T>): Promise<T | undefined> {
    const formKey = typeof f.formKey === 'string' && uuidPattern.test(f.formKey) ? f.formKey.toLowerCase() : undefined;
    if (!formKey) { await refuse(reply, ctx, 400, 'This form could not be read: fill it in again.'); return undefined; }
    const admission = await deps.idempotency.admit(dashboardFormScope, formKey, operation, request);
    if (admission.kind === 'replay') { await sendPage(reply, again(admission.body)); return undefined; }
    if (admission.kind === 'conflict') {
      await refuse(reply, ctx, 409, admission.reason === 'in_flight' ? 'This form is being sent already: look again in a moment.' : 'This form was sent before with other values: fill it in again.');
      return undefined;
    }
    let result: T;
    try {
      result = await run((kept) => (tx) => deps.idempotency.completeIn(tx, admission.claim, 200, kept));
    } catch (err) {
      // Frees the key only if the change's unit of work never committed it.
      await deps.idempotency.release(admission.claim);
      throw err;
    }
    // A refusal changed nothing: the same form may be corrected and sent again.
    if (!result.ok) await deps.idempotency.release(admission.claim);
    return result;
  }

  // New secrets for a merchant: confirmed first, shown once on the answer, never kept but as digests.
  app.post<{ Params: { id: string } }>('/merchants/:id/credentials/rotate', { schema: dashboardSchemas.rotateCredentials }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'merchants');
    const m = ctx && await merchantFor(req, reply, ctx, req.params.id);
    if (!ctx || !m) return reply;
    const f = formOf(req);
    const dialect = f.dialect === undefined || f.dialect === 'both' ? 'both' : isCredentialDialect(f.dialect) ? f.dialect : undefined;
    if (!dialect) return showMerchant(ctx, reply, m, actionNotice('error', 'Choose which credentials to rotate: /v1, executions or both.'), 400);
    if (f.confirmed !== 'yes') return sendPage(reply, rotateConfirmPage(ctx, m, dialect));
    const back = `/dashboard/merchants/${m.id}`;
    const done = await onceForForm(reply, ctx, f, `dashboard merchant.rotate_credentials ${m.id}`, { dialect },
      () => sentBeforePage(ctx, 'Credentials already rotated', html`the credentials of <a href="${back}">${m.name}</a> were rotated then.`, back),
      async (answered) => {
        const rotated = await merchants.rotate(m.id, dialect === 'both' ? credentialDialects : [dialect], answered('rotated'));
        return { ok: rotated !== undefined, rotated };
      });
    if (!done) return reply;
    const r = done.rotated;
    await audit(req, ctx, 'merchant.rotate_credentials', m.id, r !== undefined, { dialects: r?.rotated ?? [dialect] }, m.id);
    if (!r) return refuse(reply, ctx, 404, 'No such merchant is visible to you.');
    return sendPage(reply, secretPage(ctx, `Credentials of ${m.name} rotated`, 'These are the merchant\'s new credentials; the old ones no longer work.',
      rotatedSecrets(r), `/dashboard/merchants/${m.id}`));
  });

  /** A merchant's configuration form: run it, write the audit entry, show the merchant page with the outcome. */
  const merchantForm = (path: string, action: string, schema: RouteSchema,
    run: (m: Merchant, f: Record<string, string>, ctx: PageContext) => Promise<{ ok: true; text: string; detail: Record<string, unknown> } | { ok: false; error: string; detail: Record<string, unknown>; box?: string }>,
    boxes: Readonly<Record<string, string>> = {}) => {
    app.post<{ Params: { id: string } }>(`/merchants/:id/${path}`, { schema }, async (req, reply) => {
      const ctx = await adminContext(req, reply, 'merchants');
      const m = ctx && await merchantFor(req, reply, ctx, req.params.id);
      if (!ctx || !m) return reply;
      const f = formOf(req);
      const r = await run(m, f, ctx);
      await audit(req, ctx, action, m.id, r.ok, r.detail, m.id);
      if (r.ok) return showMerchant(ctx, reply, m, actionNotice('ok', r.text));
      return showMerchant(ctx, reply, m, refusal(r.error), 400, refusedForm(f, boxes, r.box, r.error));
    });
  };
  merchantForm('origins', 'origin.add', dashboardSchemas.addOrigin, async (m, f) => {
    const added = await merchants.addOrigin(m.id, String(f.origin ?? '').slice(0, 255));
    return added ? { ok: true, text: `Origin ${added} added.`, detail: { origin: added } }
      : { ok: false, error: 'An origin looks like https://shop.example (http only on loopback hosts).', detail: { origin: f.origin }, box: 'o-origin' };
  }, { 'o-origin': 'origin' });
  merchantForm('origins/remove', 'origin.remove', dashboardSchemas.removeOrigin, async (m, f) => (await merchants.removeOrigin(m.id, String(f.origin ?? '')))
    ? { ok: true, text: `Origin ${f.origin} removed.`, detail: { origin: f.origin } } : { ok: false, error: 'That origin is not registered.', detail: { origin: f.origin } });
  /** Which box of the PSP-account form a refusal of the account is about: its name, its connector, else its settings. */
  const accountBoxOf = (error: string) => (/^the account name|names the gateway's own acquirer/.test(error) ? 'a-name'
    : /^connector |real PSP connector|authorized at its .* connector/.test(error) ? 'a-connector' : 'a-settings');
  /** Whether the settings name no address, or the one the account has now. */
  const keepsAddress = async (merchantId: string, name: string, settings: unknown): Promise<boolean> => {
    const asked = typeof settings === 'object' && settings !== null ? (settings as Record<string, unknown>).baseUrl : undefined;
    if (asked === undefined) return true;
    const stored = (await workflows.accounts(merchantId)).find((a) => a.name === name)?.settings;
    const current = typeof stored === 'object' && stored !== null ? (stored as Record<string, unknown>).baseUrl : undefined;
    const normalized = baseUrlOf(asked);
    return current !== undefined && normalized.ok && normalized.value === current;
  };
  merchantForm('psp-accounts', 'psp_account.put', dashboardSchemas.putAccount, async (m, f, ctx) => {
    let settings: unknown;
    try { settings = JSON.parse(String(f.settings || '{}')); } catch { return { ok: false, error: 'Settings must be JSON.', detail: { name: f.name }, box: 'a-settings' }; }
    const name = String(f.name ?? '').trim();
    // Where the gateway sends an account's calls, card numbers and security codes in them, is the
    // operator's to say: a merchant's own admin naming any address (the gateway's loopback
    // interface, an internal host, a server of their own) would collect its shoppers' cards
    // there. A merchant's admin keeps the address the operator set (or the connector's own).
    if (!isGatewayAdmin(ctx.user) && !(await keepsAddress(m.id, name, settings))) {
      return { ok: false, error: 'Only a gateway operator sets or changes a PSP account\'s baseUrl: leave it out (the connector\'s own address) or as it is.', detail: { name: f.name }, box: 'a-settings' };
    }
    // The form has no timeout of its own: saving an account keeps the one it has (set through the
    // admin API, the CLI, or a `timeoutMs` in these settings), rather than resetting it.
    const given = typeof settings === 'object' && settings !== null && 'timeoutMs' in settings;
    const kept = given ? undefined : (await workflows.accounts(m.id)).find((a) => a.name === name)?.timeoutMs;
    const r = await workflows.putAccount(m.id, name, { connector: String(f.connector ?? 'simulator').trim(), settings, ...(kept !== undefined ? { timeoutMs: kept } : {}) });
    // The settings may hold a PSP's secrets: the audit log names the account, never its settings.
    return r.ok ? { ok: true, text: `PSP account ${r.value.name} saved.`, detail: { name: r.value.name, connector: r.value.connector } }
      : { ok: false, error: r.error, detail: { name: f.name }, box: accountBoxOf(r.error) };
  }, { 'a-name': 'name', 'a-connector': 'connector', 'a-settings': 'settings' });
  merchantForm('psp-accounts/remove', 'psp_account.remove', dashboardSchemas.removeAccount, async (m, f) => {
    const removed = await workflows.removeAccount(m.id, String(f.name ?? ''));
    return removed === 'removed' ? { ok: true, text: `PSP account ${f.name} removed.`, detail: { name: f.name } }
      : { ok: false, error: removalRefusals[removed], detail: { name: f.name } };
  });
  merchantForm('workflow', 'workflow.configure', dashboardSchemas.workflow, async (m, f) => {
    const raw = allValues(f, 'moveOn');
    const accounts = String(f.accounts ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const r = await workflows.configure(m.id, 'payment-acceptance', { accounts, moveOn: raw });
    return r.ok ? { ok: true, text: `Cascade saved: ${r.value.accounts.join(' → ') || 'default acquirer'}.`, detail: { accounts, moveOn: raw } }
      : { ok: false, error: r.error, detail: { accounts }, box: 'w-accounts' };
  }, { 'w-accounts': 'accounts', 'w-move-on': 'moveOn' });

  app.post<{ Params: { id: string } }>('/merchants/:id/webhooks', { schema: dashboardSchemas.addEndpoint }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'merchants');
    const m = ctx && await merchantFor(req, reply, ctx, req.params.id);
    if (!ctx || !m) return reply;
    const f = formOf(req);
    const types = String(f.types ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const input = { merchantId: m.id, dialect: String(f.dialect ?? ''), url: String(f.url ?? ''), types };
    const r = await onceForForm(reply, ctx, f, `dashboard webhook.add ${m.id}`, input,
      (endpointId) => sentBeforePage(ctx, 'Endpoint already added', html`it added the endpoint <a href="/dashboard/webhooks/${endpointId}" class="mono">${endpointId}</a>.`, `/dashboard/webhooks/${endpointId}`),
      (answered) => webhooks.addEndpoint(input, (tx, endpointId) => answered(endpointId)(tx)));
    if (!r) return reply;
    // A refused URL may carry a user and password (refused for it): the audit log keeps neither.
    await audit(req, ctx, 'webhook.add', m.id, r.ok, { url: withoutCredentials(String(f.url ?? '')), dialect: f.dialect }, r.ok ? r.value.endpointId : undefined);
    if (!r.ok) {
      const box = r.error.code === 'invalid_types' ? 'h-types' : r.error.code === 'invalid_url' || r.error.code === 'refused_address' ? 'h-url' : undefined;
      return showMerchant(ctx, reply, m, refusal(r.error.message), 400, refusedForm(f, { 'h-url': 'url', 'h-dialect': 'dialect', 'h-types': 'types' }, box, r.error.message));
    }
    return sendPage(reply, secretPage(ctx, 'Webhook endpoint added', 'This is the endpoint\'s secret (the /v1 decryption key, or the executions signing secret).',
      [['Endpoint id', r.value.endpointId], ['Secret', r.value.secret]], `/dashboard/webhooks/${r.value.endpointId}`), 201);
  });

  const endpointFor = async (req: FastifyRequest, reply: FastifyReply, ctx: PageContext, id: string) => {
    const e = /^[0-9a-zA-Z-]{1,64}$/.test(id) ? await webhooks.endpoint(id) : undefined;
    if (!e || !mayView(ctx.user, e.merchantId)) {
      await auditUnseen(req, ctx);
      await refuse(reply, ctx, 404, 'No such webhook endpoint is visible to you.');
      return undefined;
    }
    return e;
  };
  const showEndpoint = async (ctx: PageContext, reply: FastifyReply, id: string, message?: ReturnType<typeof actionNotice>, status = 200, before?: { createdAt: number; id: string }) => {
    const e = (await webhooks.endpoint(id))!;
    const deliveries = await webhooks.deliveries({ endpointId: id, limit: deliveriesPerPage, ...(before ? { before } : {}) });
    return sendPage(reply, endpointPage({ ...ctx, section: 'merchants' }, e, deliveries, message, deliveriesPerPage), status);
  };
  app.get<{ Params: { id: string }; Querystring: { before?: string } }>('/webhooks/:id', { schema: dashboardSchemas.endpoint }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'merchants');
    const e = ctx && await endpointFor(req, reply, ctx, req.params.id);
    // Older deliveries, a page at a time (`<created ms>.<delivery id>` of the last one shown).
    const m = /^(\d{1,16})\.([0-9a-f]{32})$/.exec(req.query.before ?? '');
    const before = m && Number.isSafeInteger(Number(m[1])) ? { createdAt: Number(m[1]), id: m[2]! } : undefined;
    return ctx && e ? showEndpoint(ctx, reply, e.endpointId, undefined, 200, before) : reply;
  });
  app.post<{ Params: { id: string; op: string } }>('/webhooks/:id/:op', { schema: dashboardSchemas.endpointAction }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'merchants');
    const e = ctx && await endpointFor(req, reply, ctx, req.params.id);
    if (!ctx || !e) return reply;
    const f = formOf(req);
    const op = req.params.op;
    const done = async (r: { ok: true } | { ok: false; error: { message: string } }, text: string, detail: Record<string, unknown> = {}) => {
      await audit(req, ctx, `webhook.${op}`, e.merchantId, r.ok, detail, e.endpointId);
      return showEndpoint(ctx, reply, e.endpointId, r.ok ? actionNotice('ok', text) : refusal(r.error.message), r.ok ? 200 : 400);
    };
    if (op === 'test') return done(await webhooks.sendTest(e.endpointId), 'Test notification queued.');
    if (op === 'redeliver') {
      const event = String(f.event ?? '');
      const r = await webhooks.redeliverEvent(event, e.endpointId);
      return done(r, r.ok ? `Redelivery queued (${r.value.redelivered})${r.value.waitingForEnable > 0 ? '; the endpoint is disabled: it is sent once the endpoint is enabled' : ''}.` : '', { eventId: event });
    }
    if (op === 'status') {
      const status = f.status === 'disabled' ? 'disabled' : 'active';
      if (status === 'disabled' && f.confirmed !== 'yes') return sendPage(reply, endpointConfirmPage(ctx, e, 'disable'));
      return done(await webhooks.setStatus(e.endpointId, status), `Endpoint ${status === 'active' ? 'enabled' : 'disabled'}.`, { status });
    }
    if (op === 'rotate') {
      if (f.confirmed !== 'yes') return sendPage(reply, endpointConfirmPage(ctx, e, 'rotate'));
      const back = `/dashboard/webhooks/${e.endpointId}`;
      const r = await onceForForm(reply, ctx, f, `dashboard webhook.rotate ${e.endpointId}`, {},
        () => sentBeforePage(ctx, 'Secret already rotated', html`the secret of <a href="${back}" class="mono">${e.url}</a> was rotated then.`, back),
        (answered) => webhooks.rotateSecret(e.endpointId, 24 * 3600_000, answered('rotated')));
      if (!r) return reply;
      await audit(req, ctx, 'webhook.rotate', e.merchantId, r.ok, {}, e.endpointId);
      if (!r.ok) return showEndpoint(ctx, reply, e.endpointId, refusal(r.error.message), 400);
      return sendPage(reply, secretPage(ctx, 'Secret rotated', `The endpoint's new secret.${r.value.previousSecretUntil ? ` The old one keeps signing beside it until ${r.value.previousSecretUntil}.` : ''}`,
        [['Secret', r.value.secret]], `/dashboard/webhooks/${e.endpointId}`));
    }
    return reply.callNotFound();
  });

  app.get('/keys', { schema: dashboardSchemas.keys }, async (req, reply) => {
    const ctx = await adminContext(req, reply, 'keys');
    if (!ctx) return reply;
    if (!isGatewayAdmin(ctx.user)) return refuse(reply, ctx, 403, 'Only an admin of the whole gateway sees the key ring.');
    return sendPage(reply, keysPage(ctx, await deps.vault.keyStatus(), deps.vault.loadedKeyVersions()));
  });
}


/**
 * A URL without its user and password. Whatever precedes an '@' before the path goes, URL or not:
 * `ops:S3cret@hooks.example/notify` parses as a URL of scheme `ops:` with no user at all.
 */
function withoutCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/]*@/i, '$1');
}
