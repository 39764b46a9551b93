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

const workflowFields = ['accounts', 'moveOn', 'notifyPending'];

/** Reads a workflow configuration from untrusted JSON; fields left out keep `base`'s values. */
export function parseWorkflowConfig(input: unknown, base: WorkflowConfig = defaultWorkflow): { ok: true; value: WorkflowConfig } | { ok: false; error: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, error: 'the workflow configuration must be an object' };
  const o = input as Record<string, unknown>;
  // A misspelt field (`acounts`) would otherwise be answered as a success that changed nothing.
  const unknown = Object.keys(o).filter((k) => !workflowFields.includes(k));
  if (unknown.length > 0) return { ok: false, error: `unknown field(s): ${unknown.slice(0, 5).join(', ')} (a workflow has ${workflowFields.join(', ')})` };
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

/** How a secret setting is shown back: its last four characters only when it is long enough to spare them. */
export const maskSecret = (value: string) => (value.length >= 16 ? `****${value.slice(-4)}` : '****');

/**
 * Splits a connector's validated settings into what may be shown (each secret replaced by its
 * mask) and the secrets themselves, to be sealed. Pure.
 */
export function splitSecrets(settings: unknown, secretKeys: readonly string[]): { shown: unknown; secrets: Record<string, string> } {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return { shown: settings, secrets: {} };
  const shown: Record<string, unknown> = { ...(settings as Record<string, unknown>) };
  const secrets: Record<string, string> = {};
  for (const k of secretKeys) {
    const v = shown[k];
    if (typeof v === 'string') { secrets[k] = v; shown[k] = maskSecret(v); }
  }
  return { shown, secrets };
}

/** The shortest request timeout a PSP account may have, in milliseconds. */
export const minTimeoutMs = 100;

/**
 * A PSP account as the admin API and the CLI show it: credentials masked (the caller passes
 * settings as the service returns them), its timeout (undefined: the gateway's); a simulated
 * account's settings also as `behaviour`, the name earlier versions used.
 */
export function accountView(a: { id: string; name: string; connector: string; settings: unknown; timeoutMs?: number | undefined }, notificationUrl?: string) {
  return {
    // The id payment searches filter by (`account`) and payments carry as `pspAccountId`.
    id: a.id, name: a.name, connector: a.connector, settings: a.settings, timeoutMs: a.timeoutMs ?? null,
    // Where the operator points the PSP's webhooks (null: its connector takes none).
    notificationUrl: notificationUrl ?? null,
    ...(a.connector === 'simulator' ? { behaviour: a.settings } : {}),
  };
}

/** The path of an account's inbound endpoint for its PSP's notifications (under the gateway's public URL). */
export const notificationPath = (merchantId: string, name: string): string =>
  `/psp-notifications/${encodeURIComponent(merchantId)}/${encodeURIComponent(name)}`;

/**
 * Reads an account as the admin API and CLI take it: `{connector, settings}`, or (as earlier
 * versions took it) a simulated account's behaviour itself.
 */
export function accountInput(body: unknown): AccountInput {
  const o = typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {};
  // A timeout alone is not a simulated account's behaviour (which never held one): read so, it
  // turned a real PSP account into the simulator and dropped its credentials. It is refused naming
  // `connector`: an account is given whole.
  const timeoutOnly = !('connector' in o) && !('settings' in o) && Object.keys(o).some((k) => k.toLowerCase() === 'timeoutms');
  if (timeoutOnly) return { connector: '', settings: undefined, timeoutMs: o.timeoutMs };
  if (typeof o.connector === 'string' || 'settings' in o) {
    const unknown = Object.keys(o).filter((k) => !accountFields.includes(k));
    return {
      connector: typeof o.connector === 'string' ? o.connector : 'simulator', settings: o.settings, ...('timeoutMs' in o ? { timeoutMs: o.timeoutMs } : {}),
      ...(unknown.length > 0 ? { unknownFields: unknown } : {}),
    };
  }
  return { connector: 'simulator', settings: body ?? {} };
}

const accountFields = ['connector', 'settings', 'timeoutMs'];

/** What an operator gives for a PSP account (unvalidated). */
export interface AccountInput {
  /** Empty when the body gave none with a timeout (refused). */
  readonly connector: string;
  readonly settings: unknown;
  /** Fields beside `connector`, `settings` and `timeoutMs` (a misspelt `timeoutMS`): refused. */
  readonly unknownFields?: readonly string[];
  /** The account's request timeout in ms; absent: the gateway's. Also taken from `settings.timeoutMs`, where earlier versions kept it. */
  readonly timeoutMs?: unknown;
}

/**
 * Reads an account's timeout and settings: a timeout given inside the settings (as earlier
 * versions of the `opp` connector took it) is lifted out of them. At most `maxMs`, the gateway's
 * PSP timeout, which the reconciler waits out before asking a PSP about an open attempt. Pure.
 */
export function readTimeout(input: AccountInput, maxMs: number): { ok: true; timeoutMs: number | undefined; settings: unknown } | { ok: false; error: string } {
  let settings = input.settings;
  let given = input.timeoutMs;
  if (typeof settings === 'object' && settings !== null && !Array.isArray(settings) && 'timeoutMs' in settings) {
    const { timeoutMs, ...rest } = settings as Record<string, unknown>;
    settings = rest;
    given ??= timeoutMs;
  }
  if (given === undefined || given === null) return { ok: true, timeoutMs: undefined, settings };
  if (typeof given !== 'number' || !Number.isInteger(given) || given < minTimeoutMs || given > maxMs) {
    return { ok: false, error: `timeoutMs must be an integer between ${minTimeoutMs} and ${maxMs} (the gateway's SWITCHYARD_PSP_TIMEOUT_MS)` };
  }
  return { ok: true, timeoutMs: given, settings };
}

/**
 * The advisory lock an attempt at a PSP account holds (shared) until its unit commits, and the
 * account's removal takes (exclusive) before it checks that nothing is open there (PostgreSQL).
 */
export const accountLockKey = (accountId: string) => `psp-account:${accountId}`;
