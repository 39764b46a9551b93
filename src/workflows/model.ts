/**
 * How a cascade treats a decline: `soft` (this acquirer refused this time; another may approve),
 * `hard` (the card itself is bad, or fraud: no acquirer should try again), `error` (the provider
 * failed to process it at all).
 */
export const declineCategories = ['soft', 'hard', 'error'] as const;
export type DeclineCategory = (typeof declineCategories)[number];
export const isDeclineCategory = (s: unknown): s is DeclineCategory => (declineCategories as readonly unknown[]).includes(s);

/** A PSP account of a cascade: `default` is the gateway's own acquirer. */
export interface CascadeAccount {
  readonly id: string;
  readonly name: string;
  /** The connector serving it (recorded on each attempt). */
  readonly connector: string;
}

/** The ordered PSP accounts of a cascade and the decline categories that move on to the next one. */
export interface CascadeRules {
  readonly accounts: readonly CascadeAccount[];
  readonly moveOn: readonly DeclineCategory[];
}

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

/** Settings that hold a PSP credential: shown back only by their last four characters. */
const secretSettings = ['accessToken', 'apiKey', 'hmacKey', 'secretKey', 'webhookSecret'];

function maskedSettings(settings: unknown): unknown {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return settings;
  const o = { ...(settings as Record<string, unknown>) };
  for (const k of secretSettings) if (typeof o[k] === 'string') o[k] = `****${(o[k] as string).slice(-4)}`;
  return o;
}

/**
 * A PSP account as the admin API and the CLI show it, credentials masked; a simulated account's
 * settings also as `behaviour`, the name earlier versions used.
 */
export function accountView(a: { name: string; connector: string; settings: unknown }) {
  return { name: a.name, connector: a.connector, settings: maskedSettings(a.settings), ...(a.connector === 'simulator' ? { behaviour: a.settings } : {}) };
}

/**
 * Reads an account as the admin API and CLI take it: `{connector, settings}`, or (as earlier
 * versions took it) a simulated account's behaviour itself.
 */
export function accountInput(body: unknown): { connector: string; settings: unknown } {
  const o = typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {};
  if (typeof o.connector === 'string' || 'settings' in o) return { connector: typeof o.connector === 'string' ? o.connector : 'simulator', settings: o.settings };
  return { connector: 'simulator', settings: body ?? {} };
}
