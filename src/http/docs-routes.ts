import type { FastifyInstance } from 'fastify';
import { emptyAnswer, jsonAnswer, object, textAnswer, type JsonSchema } from '../runtime/json-schema.ts';
import { openApiDocument, surfaces, type CatalogRoute, type Surface } from './openapi.ts';
import { renderDocsPage } from './docs-page.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered, with its schema: the source of the OpenAPI documents. */
    routeCatalog: { routes(): readonly CatalogRoute[] };
  }
}

/**
 * `/openapi/{surface}.json` and `/docs`. Both are made on first request, once every plugin has
 * registered its routes, and kept: routes do not change while the server runs.
 */
export async function registerDocsRoutes(app: FastifyInstance, deps: { catalog: { routes(): readonly CatalogRoute[] }; version: string }): Promise<void> {
  const documents = new Map<Surface, JsonSchema>();
  const documentOf = (surface: Surface) => {
    let d = documents.get(surface);
    if (!d) { d = openApiDocument(surface, deps.catalog.routes(), deps.version); documents.set(surface, d); }
    return d;
  };
  let page: string | undefined;

  for (const surface of surfaces) {
    app.get(`/openapi/${surface}.json`, {
      schema: {
        summary: `The OpenAPI 3.1 document of the ${surface} surface`, tags: ['documentation'],
        response: { 200: jsonAnswer('The document, generated from the schemas the routes validate with.', object({ openapi: { const: '3.1.0' }, info: object({}), paths: object({}) }, ['openapi', 'info', 'paths'])) },
      },
    }, async (_req, reply) => reply.header('cache-control', 'public, max-age=60').send(documentOf(surface)));
  }

  // Browsers ask every origin for its icon; the gateway has none to show, and a 404 put a failed
  // load into the console of every dashboard and hosted page.
  app.get('/favicon.ico', {
    schema: { summary: 'No icon: answered empty, so a browser showing a page of the gateway logs no failed load', tags: ['hosted pages'], response: { 204: emptyAnswer('Nothing.') } },
  }, async (_req, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());

  app.get('/docs', {
    schema: {
      summary: 'The API reference: the four documents as one readable page', tags: ['documentation'],
      response: { 200: textAnswer('A static HTML page (no script; nothing loaded from elsewhere).', 'text/html') },
    },
  }, async (_req, reply) => {
    page ??= renderDocsPage(surfaces.map((s) => ({ surface: s, url: `/openapi/${s}.json`, doc: documentOf(s) })));
    return reply.type('text/html; charset=utf-8').header('cache-control', 'public, max-age=60')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
      .header('x-content-type-options', 'nosniff').send(page);
  });
}
