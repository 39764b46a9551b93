import { scrubPans } from '../runtime/scrub.ts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fieldOf, type JsonSchema, type SchemaError } from '../runtime/json-schema.ts';
import { bearerTokenOf, secretMatches } from '../runtime/bearer.ts';
import { hasControlCharacter } from '../runtime/control-characters.ts';
import { isStoreUnavailable } from '../storage/unavailable.ts';
import { encodedBodyRefusal } from '../runtime/content-encoding.ts';

/** A control character other than a tab or a line break. */
const hasControlCharacterBeyondLines = (text: string) => /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text);

/**
 * The admin API's one error shape: `{error: {code, message}}`. Messages repeat what was asked for
 * (`no merchant …`): a card number typed where an id belongs is not sent back.
 */
export const adminError = (reply: FastifyReply, status: number, code: string, message: string) =>
  reply.code(status).send({ error: { code, message: scrubPans(message) } });

/**
 * Compressed bodies are not taken, as on the dialects: the JSON parser reads a body as it came, so a
 * gzip body was refused in the parser's own words, and one labelled gzip that is not was acted on.
 */
export function refuseEncodedBodies(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const encoded = encodedBodyRefusal(req.headers['content-encoding']);
    if (encoded === undefined) return;
    // Only a body is read: a client or proxy that labels every request so is no fault on a GET.
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody) return;
    return adminError(reply, 400, 'bad_request', `Content-Encoding ${encoded}`);
  });
}

/**
 * A body field or query parameter a route does not name is refused naming it, not ignored: a
 * misspelt filter (`merchant` for `merchantId`) listed every merchant's rows as if filtered, and a
 * misspelt option (`dialcet`) ran the write on its widest default. A schema that says otherwise
 * (`additionalProperties` given, as a PSP account's free-form settings) keeps its word.
 */
export function closeRequestSchemas(app: FastifyInstance): void {
  const closed = (s: unknown) => (s !== null && typeof s === 'object' && (s as JsonSchema).type === 'object' && !('additionalProperties' in s)
    ? { ...s, additionalProperties: false } : s);
  app.addHook('onRoute', (route) => {
    const schema = route.schema as Record<string, unknown> | undefined;
    if (!schema) return;
    route.schema = { ...schema, ...(schema.body ? { body: closed(schema.body) } : {}), ...(schema.querystring ? { querystring: closed(schema.querystring) } : {}) };
  });
}

/**
 * What every `/admin/api` scope shares: the operator token on every request, answers never
 * cached, and errors in the admin API's shape (an internal error never shows its message).
 */
export function guardAdminApi(app: FastifyInstance, token: string): void {
  closeRequestSchemas(app);
  app.addHook('onRequest', async (req, reply) => {
    const presented = bearerTokenOf(req.headers.authorization);
    if (presented === undefined || !secretMatches(presented, token)) {
      reply.header('www-authenticate', 'Bearer realm="switchyard-admin"');
      return adminError(reply, 401, 'unauthorized', 'an operator token is required (Authorization: Bearer ...)');
    }
  });
  refuseEncodedBodies(app);
  // No id, name or filter holds a control character (and PostgreSQL refuses a NUL): refused naming
  // it. A body's own fields and lists are ids and names too; a nested object (a PSP account's
  // settings) is the connector's to read, and is stored as escaped JSON.
  app.addHook('preValidation', async (req, reply) => {
    // A POST without a body (`curl -X POST`) is an empty object: the defaults of a call whose fields
    // are all optional, or the missing field named, rather than "body must be object".
    if (req.method === 'POST' && req.body === undefined) req.body = {};
    for (const [part, values] of [['path', req.params], ['query', req.query], ['body', req.body]] as const) {
      if (!values || typeof values !== 'object' || Array.isArray(values)) continue;
      for (const [name, v] of Object.entries(values as Record<string, unknown>)) {
        const texts = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
        // A body's free text (a resolution's note) may run over lines.
        if (texts.some(part === 'body' ? hasControlCharacterBeyondLines : hasControlCharacter)) return adminError(reply, 400, 'bad_request', `${part === 'path' ? name : `${part} ${name}`} must not contain control characters`);
      }
    }
  });
  app.addHook('onSend', async (_req, reply) => { reply.header('cache-control', 'no-store'); });
  app.setErrorHandler(adminErrorHandler);
}

/**
 * The code and words a schema refusal answers with: the field's own (`x-missing-code` when it is
 * absent, `x-invalid-code` otherwise, with `x-message`) where its schema names them, so a route's
 * codes stay what they were before it had a schema; else `bad_request` naming the field.
 */
export function refusalOf(e: SchemaError, root: JsonSchema | undefined): { code: string; message: string } {
  let at: JsonSchema | undefined = root;
  let named: JsonSchema | undefined = root;
  // Walk the schema path to the keyword that failed, keeping the nearest schema that names a code.
  for (const part of e.schemaPath.replace(/^#\//, '').split('/').slice(0, -1)) {
    at = at?.[decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~')] as JsonSchema | undefined;
    if (at && typeof at === 'object' && (at['x-invalid-code'] || at['x-missing-code'])) named = at;
  }
  if (e.keyword === 'required') {
    const prop = (named?.properties as Record<string, JsonSchema> | undefined)?.[(e.params as { missingProperty: string }).missingProperty];
    if (prop?.['x-missing-code'] ?? prop?.['x-invalid-code']) named = prop;
  }
  const code = (e.keyword === 'required' ? named?.['x-missing-code'] : undefined) ?? named?.['x-invalid-code'];
  if (typeof code !== 'string') return { code: 'bad_request', message: `${fieldOf(e)} ${e.message ?? 'is invalid'}` };
  return { code, message: typeof named?.['x-message'] === 'string' ? named['x-message'] : `${fieldOf(e)} ${e.message ?? 'is invalid'}` };
}

/** Unreadable requests and schema refusals as `bad_request` naming the field (or the field's own code); anything else an `internal` error, its message logged only. */
export async function adminErrorHandler(err: Error & { statusCode?: number; validation?: SchemaError[]; validationContext?: string }, req: FastifyRequest, reply: FastifyReply) {
  const first = err.validation?.[0];
  if (first) {
    const part = (req.routeOptions.schema as Record<string, JsonSchema | undefined> | undefined)?.[err.validationContext ?? 'body'];
    const r = refusalOf(first, part);
    return adminError(reply, 400, r.code, r.message);
  }
  // Nothing was changed; the request may be sent again (to another node, when this one's clock is off).
  if (isStoreUnavailable(err)) {
    req.log.warn({ err: String(err) }, 'admin request refused: the store cannot serve it now');
    reply.header('retry-after', '1');
    return adminError(reply, 503, 'unavailable', 'the store cannot serve this request now: nothing was changed; send it again shortly');
  }
  const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) req.log.error({ err: String(err) }, 'admin failure');
  // The body's size and type in the API's own words, not the HTTP framework's.
  if (status === 413) return adminError(reply, 413, 'too_large', 'the request body is too large: send less');
  if (status === 415) return adminError(reply, 415, 'unsupported_media_type', 'the request body must be JSON (Content-Type: application/json)');
  return adminError(reply, status, status === 500 ? 'internal' : 'bad_request', status === 500 ? 'internal error' : `the request could not be read: ${err.message}`);
}
