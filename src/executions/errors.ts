import type { FollowUpError, PayError } from '../payments/service.ts';
import type { ActionName, ExecutionStatus } from './model.ts';

/** The executions use cases' own refusals; the engine's pass through with their codes. */
export const executionErrors = ['not_found', 'not_allowed', 'instrument_not_found', 'instrument_expired', 'currency_mismatch', 'amount_mismatch', 'payment_mismatch', 'meta_too_large'] as const;
export type ExecutionError = (typeof executionErrors)[number] | PayError | FollowUpError;

/** Why an action is not allowed, as facts the dialect words: no text is made here. */
export type NotAllowed =
  | { readonly reason: 'authorize_once'; readonly status: ExecutionStatus | undefined }
  | { readonly reason: 'needs_authorization'; readonly action: ActionName; readonly status: ExecutionStatus }
  | { readonly reason: 'capture_closed' }
  | { readonly reason: 'wrong_status'; readonly action: ActionName; readonly status: ExecutionStatus }
  | { readonly reason: 'nothing_left'; readonly action: ActionName }
  | { readonly reason: 'meta_locked'; readonly status: ExecutionStatus };

export type ExecResult<T> = { ok: true; value: T } | { ok: false; error: ExecutionError; why?: NotAllowed };
