import { declineCategories, isDeclineCategory, type DeclineCategory } from '../processors/accounts.ts';

/** The workflows a merchant can run; `payment-acceptance` exists for every merchant. */
export const workflowCodes = ['payment-acceptance'] as const;
export type WorkflowCode = (typeof workflowCodes)[number];
export const isWorkflowCode = (s: string): s is WorkflowCode => (workflowCodes as readonly string[]).includes(s);

/** A workflow's configuration: the cascade (PSP account names in order, which declines move on) and its notifications. */
export interface WorkflowConfig {
  /** PSP account names, tried in this order; empty: the gateway's default acquirer alone. */
  readonly accounts: readonly string[];
  /** Decline categories after which the next account is tried; the others stop the cascade. */
  readonly moveOn: readonly DeclineCategory[];
  /** Whether the 3-D Secure pause emits `executionActionPending` (decision 7; off in the default template). */
  readonly notifyPending: boolean;
}

export const defaultWorkflow: WorkflowConfig = { accounts: [], moveOn: ['soft', 'error'], notifyPending: false };

const accountName = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const isAccountName = (s: unknown): s is string => typeof s === 'string' && accountName.test(s);

/** Reads a workflow configuration from untrusted JSON; fields left out keep `base`'s values. */
export function parseWorkflowConfig(input: unknown, base: WorkflowConfig = defaultWorkflow): { ok: true; value: WorkflowConfig } | { ok: false; error: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, error: 'the workflow configuration must be an object' };
  const o = input as Record<string, unknown>;
  const accounts = o.accounts ?? base.accounts;
  if (!Array.isArray(accounts) || accounts.length > 10 || !accounts.every(isAccountName) || new Set(accounts).size !== accounts.length) {
    return { ok: false, error: 'accounts must be a list of at most 10 distinct PSP account names' };
  }
  const moveOn = o.moveOn ?? base.moveOn;
  if (!Array.isArray(moveOn) || !moveOn.every(isDeclineCategory)) {
    return { ok: false, error: `moveOn must be a list of ${declineCategories.join(', ')}` };
  }
  const notifyPending = o.notifyPending ?? base.notifyPending;
  if (typeof notifyPending !== 'boolean') return { ok: false, error: 'notifyPending must be true or false' };
  return { ok: true, value: { accounts: [...accounts], moveOn: [...new Set(moveOn)], notifyPending } };
}
