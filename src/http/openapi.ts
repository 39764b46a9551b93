import type { FastifyInstance, RouteOptions } from 'fastify';
import type { JsonSchema, RouteSchema } from '../runtime/json-schema.ts';

/** The four API surfaces, each with its own document, error shape and audience. */
export const surfaces = ['v1', 'executions', 'public', 'admin'] as const;
export type Surface = (typeof surfaces)[number];

/** A route as registered: what the completeness test and the documents are made of. */
export interface CatalogRoute {
  readonly method: string;
  readonly url: string;
  readonly surface: Surface;
  readonly schema: RouteSchema | undefined;
}

/** Which document a path belongs to, by the prefix every surface keeps. */
export function surfaceOf(url: string): Surface {
  if (url === '/v1' || url.startsWith('/v1/')) return 'v1';
  if (url.startsWith('/admin/') || url === '/admin') return 'admin';
  if (/^\/(auth\/token|merchant|payment|public\/payment)(\/|$)/.test(url)) return 'executions';
  return 'public';
}

/**
 * Every route of the server, as Fastify registers it (its `onRoute` hook sees the routes of every
 * plugin registered after it, whoever adds them later). A route without a documented schema is
 * still listed, so the completeness test names it.
 */
export function routeCatalog(app: FastifyInstance): { routes(): readonly CatalogRoute[] } {
  const routes: CatalogRoute[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const method of methods) {
      routes.push({ method: method.toUpperCase(), url: r.url, surface: surfaceOf(r.url), schema: r.schema as RouteSchema | undefined });
    }
  });
  return {
    routes() {
      // Fastify adds a HEAD beside each GET; it answers as the GET does, without a body.
      const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
      return routes.filter((r) => !(r.method === 'HEAD' && gets.has(r.url)));
    },
  };
}

/** `/v1/payments/:id` → `/v1/payments/{id}`; a trailing wildcard becomes a `{path}` parameter. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\/\*$/, '/{path}');

const titles: Readonly<Record<Surface, { title: string; description: string }>> = {
  v1: {
    title: 'Switchyard /v1 payments dialect',
    description: 'The form-encoded Open-Payment-Platform-style dialect. Requests are application/x-www-form-urlencoded; '
      + 'every answer is JSON with a `result` (code + description) and, for refused parameters, `result.parameterErrors`. '
      + 'See docs/errors.md and docs/result-codes.md.',
  },
  executions: {
    title: 'Switchyard executions dialect',
    description: 'The JSON workflow-executions dialect: OAuth client credentials, then Bearer tokens; writes need an x-idempotency-key. '
      + 'Errors are `{errors: [{id, code, detail, meta.requestId}]}` (docs/errors.md).',
  },
  public: {
    title: 'Switchyard public browser endpoints',
    description: "Pages and scripts the shopper's browser loads (3-D Secure and bank pages, the secure-fields SDK, the consumer wait page), "
      + 'health and readiness, and these documents. Pages answer HTML; machine answers are JSON.',
  },
  admin: {
    title: 'Switchyard admin API',
    description: "The operator's API under /admin: merchants' origins, PSP accounts and workflows, webhooks, the ledger. "
      + 'Every route needs `Authorization: Bearer <operator token>`; errors are `{error: {code, message}}` (docs/errors.md).',
  },
};

const securitySchemes: Readonly<Record<Surface, Record<string, JsonSchema>>> = {
  v1: {
    bearer: { type: 'http', scheme: 'bearer', description: "The entity's access token (or the legacy authentication.userId + authentication.password pair)." },
  },
  executions: {
    bearer: { type: 'http', scheme: 'bearer', description: 'An access token from POST /auth/token/{clientId}.' },
    apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: "The client's API key (token requests only)." },
    clientToken: { type: 'http', scheme: 'bearer', description: 'The short-lived client token from POST /merchant/client/init (browser calls).' },
  },
  public: {
    metrics: { type: 'http', scheme: 'bearer', description: 'SWITCHYARD_METRICS_TOKEN, when set.' },
  },
  admin: {
    operator: { type: 'http', scheme: 'bearer', description: 'The operator token (SWITCHYARD_ADMIN_TOKEN, or the one written to the data directory).' },
  },
};

function parametersOf(s: RouteSchema): JsonSchema[] {
  const out: JsonSchema[] = [];
  const add = (where: 'path' | 'query' | 'header', schema: JsonSchema | undefined) => {
    if (!schema) return;
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((schema.required ?? []) as string[]);
    for (const [name, p] of Object.entries(props)) {
      const { description, ...rest } = p;
      out.push({ name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest });
    }
  };
  add('path', s.params);
  add('query', s.querystring);
  add('header', s.headers);
  return out;
}

/** The OpenAPI 3.1 document of one surface, made from the routes' own schemas. */
export function openApiDocument(surface: Surface, routes: readonly CatalogRoute[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    if (r.surface !== surface || !r.schema) continue;
    const s = r.schema;
    const path = openApiPath(r.url);
    const op: Record<string, unknown> = {
      operationId: `${r.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      summary: s.summary,
      ...(s.description ? { description: s.description } : {}),
      ...(s.tags ? { tags: s.tags } : {}),
    };
    const parameters = parametersOf(s);
    if (r.url.endsWith('/*')) parameters.push({ name: 'path', in: 'path', required: true, schema: { type: 'string' }, description: 'Any path below this prefix.' });
    if (parameters.length > 0) op.parameters = parameters;
    if (s.body) {
      const types = s.consumes ?? ['application/json'];
      op.requestBody = { required: (s.body.required as unknown[] | undefined)?.length !== 0, content: Object.fromEntries(types.map((t) => [t, { schema: s.body }])) };
    }
    op.responses = s.response;
    if (s.security) op.security = s.security.map((name) => ({ [name]: [] }));
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: { ...titles[surface], version },
    servers: [{ url: '/' }],
    paths: sorted,
    components: { securitySchemes: securitySchemes[surface] },
  };
}

/** Routes a document would leave out or describe badly: no schema, no summary, or no documented answer. */
export function undocumented(routes: readonly CatalogRoute[]): string[] {
  return routes.filter((r) => !r.schema || !r.schema.summary || !r.schema.response || Object.keys(r.schema.response).length === 0)
    .map((r) => `${r.method} ${r.url}`);
}
