import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * JSON Schema (the subset OpenAPI 3.1 and Ajv share) is the one description of every request and
 * answer: routes carry it as their Fastify `schema`, requests are validated with it, and the
 * OpenAPI documents are generated from it (src/http/openapi.ts).
 */
export type JsonSchema = { readonly [k: string]: unknown };

/** A route's `schema`: Fastify's keys plus the OpenAPI operation's words. */
export interface RouteSchema {
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly params?: JsonSchema;
  readonly querystring?: JsonSchema;
  readonly headers?: JsonSchema;
  readonly body?: JsonSchema;
  /** The request body's media type when it is not JSON (the `/v1` form). */
  readonly consumes?: readonly string[];
  /** OpenAPI security requirement names (see each document's `securitySchemes`). */
  readonly security?: readonly string[];
  /** Status → what the answer means and its body per media type. */
  readonly response: Readonly<Record<string, DocumentedResponse>>;
}

export interface DocumentedResponse {
  readonly description: string;
  readonly content?: Readonly<Record<string, { readonly schema: JsonSchema }>>;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
}

/** Words schemas may carry for documents and error messages; Ajv itself ignores them. */
const annotations = ['example', 'x-missing-code', 'x-invalid-code', 'x-message', 'x-length-code', 'x-length-message', 'x-checks', 'x-known-code'];

/**
 * One validator for every surface. No type coercion, no defaults and nothing removed: a request is
 * read as it was sent, and each dialect decides what a failure is called.
 */
export const ajv = new Ajv({ allErrors: true, strict: true, coerceTypes: false, useDefaults: false, removeAdditional: false, keywords: annotations, allowUnionTypes: true });

const cache = new WeakMap<object, ValidateFunction>();
export function compile(schema: JsonSchema): ValidateFunction {
  let v = cache.get(schema);
  if (!v) { v = ajv.compile(schema as object); cache.set(schema, v); }
  return v;
}

export type SchemaError = ErrorObject;

/** The field a validation error is about: `amount.value`, `paymentComposition[0].amount`, `body` for the top level. */
export function fieldOf(e: ErrorObject): string {
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') parts.push(String((e.params as { missingProperty: string }).missingProperty));
  if (e.keyword === 'additionalProperties') parts.push(String((e.params as { additionalProperty: string }).additionalProperty));
  if (parts.length === 0) return 'body';
  return parts.reduce((acc, p) => (/^[0-9]+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/**
 * Fastify's validator compiler over the shared Ajv: what routes declare is what they accept.
 * Each schema is compiled on its route's first request, not at start (start time is a restart's
 * downtime).
 */
export function validatorCompiler({ schema }: { schema: JsonSchema }) {
  const validate = (data: unknown): boolean => {
    const v = compile(schema);
    const ok = v(data) as boolean;
    validate.errors = v.errors;
    return ok;
  };
  validate.errors = undefined as ValidateFunction['errors'];
  return validate;
}

/** A documented JSON answer. */
export const jsonAnswer = (description: string, schema: JsonSchema): DocumentedResponse =>
  ({ description, content: { 'application/json': { schema } } });
/** A documented answer of another media type (HTML pages, scripts, text). */
export const textAnswer = (description: string, type: string): DocumentedResponse =>
  ({ description, content: { [type]: { schema: { type: 'string' } } } });
/** A documented answer without a body (redirects, preflights). */
export const emptyAnswer = (description: string): DocumentedResponse => ({ description });

/** An object schema whose listed fields are documented; others may appear (answers grow, clients ignore what they do not know). */
export const object = (properties: Record<string, JsonSchema>, required: readonly string[] = [], extra: JsonSchema = {}): JsonSchema =>
  ({ type: 'object', properties, ...(required.length ? { required } : {}), ...extra });
export const str = (description?: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...(description ? { description } : {}), ...extra });
