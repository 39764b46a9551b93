import { bearerTokenOf, secretMatches } from '../runtime/bearer.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MerchantService } from '../merchants/service.ts';
import { credentialDialects } from '../merchants/model.ts';
import { removalRefusals, type WorkflowService } from '../workflows/service.ts';
import { accountInput, accountView } from '../workflows/model.ts';
import type { PspAccount } from '../workflows/store.ts';
import type { CircuitView } from '../processors/breaker.ts';
import { adminError, adminErrorHandler, closeRequestSchemas, refuseEncodedBodies } from './api-guard.ts';
import { adminSchemas } from './schemas.ts';

export interface AdminDeps {
  merchants: MerchantService;
  workflows: WorkflowService;
  adminToken: string;
  /** A PSP account's circuit breaker as this node sees it. */
  circuitOf: (accountId: string) => CircuitView;
  /** The gateway's public URL, the base of notification URLs (else the one the operator called). */
  publicUrl?: string | undefined;
}

const codeOfStatus: Readonly<Record<number, string>> = { 401: 'unauthorized', 404: 'not_found', 409: 'conflict', 500: 'internal' };

/**
 * The operator's admin API (register with prefix `/admin`): a merchant's PSP accounts and its
 * workflows' cascade. Authenticated with the operator's admin token (`Authorization: Bearer`).
 */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { merchants, workflows } = deps;
  // Credentials masked; the circuit as the node answering sees it (breakers are per node).
  // and the notification URL to configure at the PSP (under the public URL, else the one called).
  const view = (a: PspAccount, req: FastifyRequest) =>
    ({ ...accountView(a, workflows.notificationUrlOf(a, deps.publicUrl ?? `${req.protocol}://${req.host}`)), circuit: deps.circuitOf(a.id) });
  // The admin API's one error shape, `{error: {code, message}}`, as under /admin/api (docs/errors.md).
  const problem = (reply: FastifyReply, status: number, message: string) => adminError(reply, status, codeOfStatus[status] ?? 'bad_request', message);

  app.setErrorHandler(adminErrorHandler);
  app.setNotFoundHandler(async (_req, reply) => problem(reply, 404, 'no such resource'));
  app.addHook('onRequest', async (req, reply) => {
    const presented = bearerTokenOf(req.headers.authorization);
    if (presented === undefined || !secretMatches(presented, deps.adminToken)) {
      reply.header('www-authenticate', 'Bearer realm="switchyard-admin"');
      return problem(reply, 401, 'an operator token is required (Authorization: Bearer ...)');
    }
  });
  refuseEncodedBodies(app);
  closeRequestSchemas(app);

  const merchantOf = async (reply: FastifyReply, id: string) => {
    const m = /^[0-9a-f]{32}$/.test(id) ? await merchants.byId(id) : undefined;
    if (!m) await problem(reply, 404, 'no such merchant');
    return m;
  };

  // Web origins whose pages may frame the secure fields and call browser tokenization.
  app.get<{ Params: { merchantId: string } }>('/merchants/:merchantId/origins', { schema: adminSchemas.origins }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    return { origins: await merchants.origins(m.id) };
  });
  app.post<{ Params: { merchantId: string }; Body: { origin?: unknown } }>('/merchants/:merchantId/origins', { schema: adminSchemas.addOrigin }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    const given = req.body?.origin;
    const origin = typeof given === 'string' && given.length <= 255 ? await merchants.addOrigin(m.id, given) : undefined;
    if (!origin) return problem(reply, 400, 'origin must be a web origin such as https://shop.example (http only on loopback hosts)');
    return reply.code(201).send({ origin });
  });
  app.delete<{ Params: { merchantId: string }; Querystring: { origin?: string } }>('/merchants/:merchantId/origins', { schema: adminSchemas.removeOrigin }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    if (!(await merchants.removeOrigin(m.id, req.query.origin ?? ''))) return problem(reply, 404, 'that origin is not registered');
    return { removed: req.query.origin };
  });

  // New secrets for a merchant, shown in this one answer: the old ones are refused from now on.
  app.post<{ Params: { merchantId: string }; Body: { dialect?: 'opp' | 'executions' | 'both' } | undefined }>('/merchants/:merchantId/credentials/rotate', { schema: adminSchemas.rotateCredentials }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    const dialect = req.body?.dialect ?? 'both';
    const rotated = await merchants.rotate(m.id, dialect === 'both' ? credentialDialects : [dialect]);
    if (!rotated) return problem(reply, 404, 'no such merchant');
    return reply.header('cache-control', 'no-store').send(rotated);
  });

  app.get<{ Params: { merchantId: string } }>('/merchants/:merchantId/psp-accounts', { schema: adminSchemas.accounts }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    return { accounts: (await workflows.accounts(m.id)).map((a) => view(a, req)) };
  });

  app.get<{ Params: { merchantId: string; name: string } }>('/merchants/:merchantId/psp-accounts/:name', { schema: adminSchemas.account }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    const account = (await workflows.accounts(m.id)).find((a) => a.name === req.params.name);
    if (!account) return problem(reply, 404, 'no such PSP account');
    return view(account, req);
  });

  app.put<{ Params: { merchantId: string; name: string } }>('/merchants/:merchantId/psp-accounts/:name', { schema: adminSchemas.putAccount }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    const r = await workflows.putAccount(m.id, req.params.name, accountInput(req.body));
    if (!r.ok) return problem(reply, 400, r.error);
    return view(r.value, req);
  });

  app.delete<{ Params: { merchantId: string; name: string } }>('/merchants/:merchantId/psp-accounts/:name', { schema: adminSchemas.removeAccount }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    const removed = await workflows.removeAccount(m.id, req.params.name);
    if (removed !== 'removed') return problem(reply, removed === 'not_found' ? 404 : 409, removalRefusals[removed]);
    return { removed: req.params.name };
  });

  app.get<{ Params: { merchantId: string; code: string } }>('/merchants/:merchantId/workflows/:code', { schema: adminSchemas.workflow }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    const wf = await workflows.workflow(m.id, req.params.code);
    if (!wf) return problem(reply, 404, 'no such workflow');
    return { code: req.params.code, ...wf };
  });

  app.patch<{ Params: { merchantId: string; code: string } }>('/merchants/:merchantId/workflows/:code', { schema: adminSchemas.configureWorkflow }, async (req, reply) => {
    const m = await merchantOf(reply, req.params.merchantId);
    if (!m) return reply;
    const r = await workflows.configure(m.id, req.params.code, req.body ?? {});
    if (!r.ok) return problem(reply, r.notFound ? 404 : 400, r.error);
    return { code: req.params.code, ...r.value };
  });
}
