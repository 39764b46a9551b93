import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import { fail, ok, type Result } from '../runtime/result.ts';
import { defaultAccount, type RoutedAccount } from '../processors/registry.ts';
import type { ConnectorFactory } from '../processors/connector.ts';
import {
  defaultWorkflow, isAccountName, isWorkflowCode, notificationPath, parseWorkflowConfig, readTimeout, splitSecrets, maskSecret,
  type AccountInput, type CascadeRules, type WorkflowConfig,
} from './model.ts';
import type { PspAccount, WorkflowStore } from './store.ts';

export type WorkflowResult<T> = { ok: true; value: T } | { ok: false; error: string; notFound?: true };

/** Why an account was not removed, as the operator reads it. */
export const removalRefusals = {
  not_found: 'No such account.',
  named: 'The payment-acceptance cascade still names the account: take it out of the cascade first.',
  in_use: 'The account holds payments (authorized there, or whose answer its PSP may still give): their captures, refunds and voids must reach it.',
} as const;

/** Seals and opens PSP credentials (the vault's key ring); `context` binds a ciphertext to where it is kept. */
export interface SecretBox {
  sealSecret(plaintext: string, context: string): string;
  openSecret(sealed: string, context: string): Promise<string>;
  resealSecret(sealed: string, context: string): Promise<string | undefined>;
}

export interface WorkflowService {
  /**
   * Creates or replaces the merchant's PSP account of that name, served by `connector` with these
   * settings; the connector's secret settings are sealed before they are stored. A live merchant's
   * accounts must use a real (not simulated) connector.
   */
  putAccount(merchantId: string, name: string, input: AccountInput): Promise<WorkflowResult<PspAccount>>;
  /** The merchant's accounts as they may be shown: secret settings masked. */
  accounts(merchantId: string): Promise<PspAccount[]>;
  /**
   * The account's notification URL, to be configured at its PSP: `base` (the gateway's public URL)
   * plus its inbound endpoint's path; undefined when its connector takes no notifications.
   */
  notificationUrlOf(account: Pick<PspAccount, 'merchantId' | 'name' | 'connector'>, base: string): string | undefined;
  /** Removes an account no cascade names and that holds no payment (`accountInUse`). */
  removeAccount(merchantId: string, name: string): Promise<'removed' | 'not_found' | 'named' | 'in_use'>;
  /** The ids of every merchant's accounts (what this node's per-account state may keep). */
  accountIds(): Promise<string[]>;
  /** The workflow's configuration (the default template until the merchant changes it). */
  workflow(merchantId: string, code: string): Promise<WorkflowConfig | undefined>;
  /** Changes the fields given; every account named must exist (and be real, for a live merchant). */
  configure(merchantId: string, code: string, input: unknown): Promise<WorkflowResult<WorkflowConfig>>;
  /** The cascade a workflow runs now: its accounts resolved to ids, in order. */
  rulesOf(merchantId: string, code: string): Promise<CascadeRules>;
  /** An account as routing needs it: its connector and settings, credentials opened for the call. */
  routedAccount(accountId: string): Promise<RoutedAccount | undefined>;
  /** Seals the credentials of accounts written before they were sealed; returns how many. */
  sealUnsealed(): Promise<number>;
  /** Re-seals every account's credentials under the key ring's current version; returns how many moved. */
  resealAll(): Promise<number>;
}

type Factory = Pick<ConnectorFactory, 'name' | 'parseSettings' | 'secretSettings' | 'identitySettings' | 'simulated' | 'takesNotifications'>;

/**
 * `connectors` validate each account's settings and name its secret ones (the registry's
 * factories); `secrets` seals them; `merchantOf` says whether a merchant is live; the default
 * acquirer (no account) is simulated unless `defaultSimulated` says otherwise.
 */
export function createWorkflowService(deps: {
  store: WorkflowStore; clock: Clock; ids: Ids; connectors: readonly Factory[]; secrets: SecretBox;
  merchantOf: (id: string) => Promise<{ readonly live: boolean } | undefined>;
  defaultSimulated?: boolean;
  /** The gateway's PSP timeout: the longest an account's own may be. */
  maxTimeoutMs: number;
  /** Told of an account this node removed (its per-account state goes at once; other nodes' on their next sweep). */
  onAccountRemoved?: (accountId: string) => Promise<void>;
}): WorkflowService {
  const { store, clock, ids, secrets } = deps;
  const factoryOf = (name: string) => deps.connectors.find((c) => c.name === name);
  const secretKeysOf = (connector: string) => factoryOf(connector)?.secretSettings ?? [];
  const contextOf = (a: { merchantId: string; name: string }) => `psp-account:${a.merchantId}:${a.name}`;
  /** As shown: rows not sealed yet keep their credentials in the settings, masked here. */
  const shown = (a: PspAccount): PspAccount => (a.sealedSecrets !== undefined ? a : { ...a, settings: splitSecrets(a.settings, secretKeysOf(a.connector)).shown });
  /** One setting's value as stored, for comparing (absent and undefined alike). */
  const settingOf = (settings: unknown, key: string) => JSON.stringify((settings as Record<string, unknown> | null)?.[key] ?? null);
  const isLive = async (merchantId: string) => (await deps.merchantOf(merchantId))?.live === true;

  async function workflow(merchantId: string, code: string) {
    if (!isWorkflowCode(code)) return undefined;
    return (await store.workflow(merchantId, code)) ?? defaultWorkflow;
  }
  /** Splits settings and seals the secret part; the shown part holds masks only. */
  function sealed(a: { merchantId: string; name: string; connector: string }, settings: unknown) {
    const { shown: visible, secrets: secret } = splitSecrets(settings, secretKeysOf(a.connector));
    return { settings: visible, sealedSecrets: secrets.sealSecret(JSON.stringify(secret), contextOf(a)) };
  }

  /**
   * Settings as given, with a credential's mask (what the account showed, `****` and its last four)
   * put back to the credential it stands for: an operator who reads an account and puts it back to
   * change one field keeps its credentials. Any other mask is refused, never stored as the credential.
   */
  async function withStoredSecrets(existing: PspAccount | undefined, connector: string, settings: unknown): Promise<Result<unknown, string>> {
    if (typeof settings !== 'object' || settings === null || Array.isArray(settings)) return ok(settings);
    const given = { ...(settings as Record<string, unknown>) };
    const masked = maskedKeys(connector, given);
    if (masked.length === 0) return ok(given);
    const stored = existing && existing.connector === connector ? (await service.routedAccount(existing.id))?.settings as Record<string, unknown> | undefined : undefined;
    for (const k of masked) {
      const current = stored?.[k];
      if (typeof current !== 'string' || maskSecret(current) !== given[k]) return fail(`settings.${k}: give the credential itself, not a mask of it`);
      given[k] = current;
    }
    return ok(given);
  }

  /** The credentials given as the mask the API shows, to be kept as stored. */
  const maskedKeys = (connector: string, settings: unknown): string[] => typeof settings !== 'object' || settings === null || Array.isArray(settings) ? []
    : secretKeysOf(connector).filter((k) => typeof (settings as Record<string, unknown>)[k] === 'string' && ((settings as Record<string, string>)[k]).startsWith('****'));

  const service: WorkflowService = {
    async putAccount(merchantId, name, input) {
      if (!isAccountName(name)) return { ok: false, error: 'the account name must be 1-64 letters, digits, "_", "." or "-"' };
      if (name === defaultAccount.name) return { ok: false, error: `"${defaultAccount.name}" names the gateway's own acquirer` };
      if (input.unknownFields) return { ok: false, error: `unknown field(s): ${input.unknownFields.slice(0, 5).join(', ')} (an account has connector, settings, timeoutMs)` };
      if (input.connector === '') return { ok: false, error: 'connector is required: an account is given whole (connector, settings, timeoutMs), a timeout with the rest' };
      const factory = factoryOf(input.connector);
      if (!factory) return { ok: false, error: `connector must be one of ${deps.connectors.map((c) => c.name).join(', ')}` };
      if (factory.simulated && await isLive(merchantId)) {
        return { ok: false, error: `a live merchant's PSP accounts must use a real PSP connector (${factory.name} is simulated)` };
      }
      const timeout = readTimeout(input, deps.maxTimeoutMs);
      if (!timeout.ok) return timeout;
      const existing = (await store.accounts(merchantId)).find((a) => a.name === name);
      const otherConnector = (current: PspAccount) => current.connector !== factory.name
        ? `account ${name} holds payments authorized at its ${current.connector} connector, whose follow-ups must reach it: put a new account for ${factory.name}` : undefined;
      // Said before the settings are read for the other connector (checked again with the change, below).
      const early = existing && otherConnector(existing);
      if (existing && early && await store.accountInUse(existing.id)) return { ok: false, error: early };
      const given = await withStoredSecrets(existing, factory.name, timeout.settings);
      if (!given.ok) return given;
      const parsed = factory.parseSettings(given.value);
      if (!parsed.ok) return parsed;
      // The account's connector is the PSP that holds its authorizations: their captures, refunds
      // and voids must reach it. Another PSP is another account. So is the same connector at
      // another PSP, or another account there (an OPP platform's other host, another entity or
      // merchant account): the payments made at the old one would be captured, voided and asked
      // about where nobody knows them. Either change is made only while the account holds nothing,
      // judged on the account as it is when the change is made.
      // A credential given as its mask was taken from the account as read above: changed since (its
      // credentials rotated, or removed and put again by another operator), the mask stands for a
      // credential it no longer holds, refused as any other mask is.
      const masked = maskedKeys(factory.name, timeout.settings);
      const refusalOf = (current: PspAccount | undefined) => {
        if (masked.length > 0 && (current?.id !== existing?.id || current?.sealedSecrets !== existing?.sealedSecrets)) {
          return { reason: `settings.${masked[0]}: the account's credentials changed since they were read: give the credential itself, not a mask of it`, whileInUse: false };
        }
        if (!current) return undefined;
        const moved = otherConnector(current);
        if (moved !== undefined) return { reason: moved, whileInUse: true };
        const identity = (factory.identitySettings ?? []).filter((k) => settingOf(current.settings, k) !== settingOf(parsed.value, k));
        return identity.length > 0 ? { reason: `account ${name} holds payments made at its ${identity.join(' and ')}, whose follow-ups must reach them there: put a new account for the other`, whileInUse: true } : undefined;
      };
      const now = clock.now();
      const account = { merchantId, name, connector: factory.name };
      const stored = await store.putAccountUnless({ id: ids.hex32(), ...account, ...sealed(account, parsed.value), timeoutMs: timeout.timeoutMs, createdAt: now, updatedAt: now }, refusalOf);
      if ('refused' in stored) return { ok: false, error: stored.refused };
      return { ok: true, value: shown(stored) };
    },
    accounts: async (merchantId) => (await store.accounts(merchantId)).map(shown),
    notificationUrlOf: (a, base) => (factoryOf(a.connector)?.takesNotifications ? `${base.replace(/\/+$/, '')}${notificationPath(a.merchantId, a.name)}` : undefined),
    async removeAccount(merchantId, name) {
      const account = (await store.accounts(merchantId)).find((a) => a.name === name);
      const removed = await store.removeAccount(merchantId, name);
      if (removed === 'removed' && account) await deps.onAccountRemoved?.(account.id);
      return removed;
    },
    accountIds: () => store.accountIds(),
    workflow,
    async configure(merchantId, code, input) {
      const current = await workflow(merchantId, code);
      if (!current) return { ok: false, error: `no workflow ${JSON.stringify(code)}`, notFound: true };
      const parsed = parseWorkflowConfig(input, current);
      if (!parsed.ok) return parsed;
      const live = await isLive(merchantId);
      // Checked against the accounts as they are when it is written: none is removed meanwhile.
      const refused = await store.setWorkflow(merchantId, code, parsed.value, clock.now(), (accounts) => {
        const byName = new Map(accounts.map((a) => [a.name, a]));
        const missing = parsed.value.accounts.filter((n) => n !== defaultAccount.name && !byName.has(n));
        if (missing.length > 0) return `unknown PSP account(s): ${missing.join(', ')}`;
        if (!live) return undefined;
        const simulated = parsed.value.accounts.filter((n) => (n === defaultAccount.name ? deps.defaultSimulated ?? true : factoryOf(byName.get(n)!.connector)?.simulated));
        return simulated.length > 0 ? `a live merchant's cascade may name only real PSP accounts (simulated: ${simulated.join(', ')})` : undefined;
      });
      return refused === undefined ? parsed : { ok: false, error: refused };
    },
    async rulesOf(merchantId, code) {
      // One read for the workflow and the accounts: a payment pays for one statement, not two.
      const routing = await store.routing(merchantId, code);
      const wf = (isWorkflowCode(code) ? routing.workflow : undefined) ?? defaultWorkflow;
      const byName = new Map(routing.accounts.map((a) => [a.name, a]));
      const accounts = wf.accounts.map((n) => (n === defaultAccount.name ? defaultAccount : byName.get(n)))
        .filter((a) => a !== undefined).map((a) => ({ id: a.id, name: a.name, connector: a.connector }));
      return { accounts: accounts.length > 0 ? accounts : [defaultAccount], moveOn: wf.moveOn };
    },
    async routedAccount(accountId) {
      const a = await store.account(accountId);
      if (!a) return undefined;
      const opened = a.sealedSecrets === undefined ? {} : JSON.parse(await secrets.openSecret(a.sealedSecrets, contextOf(a))) as Record<string, string>;
      const settings = typeof a.settings === 'object' && a.settings !== null ? { ...a.settings, ...opened } : a.settings;
      return { id: a.id, name: a.name, connector: a.connector, settings, timeoutMs: a.timeoutMs };
    },
    async sealUnsealed() {
      let sealedCount = 0;
      const connectors = deps.connectors.filter((c) => (c.secretSettings ?? []).length > 0).map((c) => c.name);
      for (;;) {
        const batch = await store.unsealedAccounts(connectors, 100);
        if (batch.length === 0) return sealedCount;
        for (const a of batch) {
          const s = sealed(a, a.settings);
          // Another node starting at the same time may seal it first; its sealing stands.
          if (await store.replaceSecrets(a.id, undefined, s.settings, s.sealedSecrets)) sealedCount++;
        }
      }
    },
    async resealAll() {
      let moved = 0;
      for (const a of await store.sealedAccounts()) {
        const again = await secrets.resealSecret(a.sealedSecrets!, contextOf(a));
        if (again !== undefined && await store.replaceSecrets(a.id, a.sealedSecrets, a.settings, again)) moved++;
      }
      return moved;
    },
  };
  return service;
}
