/** Expected refusals of the webhook operations, as stable codes with a human-readable detail. */
export const webhookErrorCodes = [
  'merchant_not_found', 'entity_required', 'entity_not_found', 'invalid_dialect', 'invalid_url', 'refused_address',
  'invalid_types', 'endpoint_not_found', 'event_not_found', 'not_executions_endpoint', 'invalid_argument',
] as const;
export type WebhookErrorCode = (typeof webhookErrorCodes)[number];

export interface WebhookError {
  readonly code: WebhookErrorCode;
  readonly message: string;
}

export type WebhookResult<T> = { ok: true; value: T } | { ok: false; error: WebhookError };

export const refuse = (code: WebhookErrorCode, message: string): { ok: false; error: WebhookError } => ({ ok: false, error: { code, message } });
