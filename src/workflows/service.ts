import type { Clock } from '../runtime/clock.ts';
import type { Ids } from '../runtime/ids.ts';
import { defaultAccount, type RoutedAccount } from '../processors/registry.ts';
import type { ConnectorFactory } from '../processors/connector.ts';
import { defaultWorkflow, isAccountName, isWorkflowCode, parseWorkflowConfig, type CascadeRules, type WorkflowConfig } from './model.ts';
import type { PspAccount, WorkflowStore } from './store.ts';

export type WorkflowResult<T> = { ok: true; value: T } | { ok: false; error: string; notFound?: true };

export interface WorkflowService {
  /** Creates or replaces the merchant's PSP account of that name, served by `connector` with these settings. */
  putAccount(merchantId: string, name: string, input: { connector: string; settings: unknown }): Promise<WorkflowResult<PspAccount>>;
  accounts(merchantId: string): Promise<PspAccount[]>;
  removeAccount(merchantId: string, name: string): Promise<boolean>;
  /** The workflow's configuration (the default template until the merchant changes it). */
  workflow(merchantId: string, code: string): Promise<WorkflowConfig | undefined>;
  /** Changes the fields given; every account named must exist. */
  configure(merchantId: string, code: string, input: unknown): Promise<WorkflowResult<WorkflowConfig>>;
  /** The cascade a workflow runs now: its accounts resolved to ids, in order. */
  rulesOf(merchantId: string, code: string): Promise<CascadeRules>;
  /** An account as routing needs it (its connector and settings). */
  routedAccount(accountId: string): Promise<RoutedAccount | undefined>;
}

/** `connectors` validate each account's settings (the registry's factories). */
export function createWorkflowService(deps: { store: WorkflowStore; clock: Clock; ids: Ids; connectors: readonly Pick<ConnectorFactory, 'name' | 'parseSettings'>[] }): WorkflowService {
  const { store, clock, ids } = deps;
  async function workflow(merchantId: string, code: string) {
    if (!isWorkflowCode(code)) return undefined;
    return (await store.workflow(merchantId, code)) ?? defaultWorkflow;
  }
  return {
    async putAccount(merchantId, name, input) {
      if (!isAccountName(name)) return { ok: false, error: 'the account name must be 1-64 letters, digits, "_", "." or "-"' };
      if (name === defaultAccount.name) return { ok: false, error: `"${defaultAccount.name}" names the gateway's own acquirer` };
      const factory = deps.connectors.find((c) => c.name === input.connector);
      if (!factory) return { ok: false, error: `connector must be one of ${deps.connectors.map((c) => c.name).join(', ')}` };
      const parsed = factory.parseSettings(input.settings);
      if (!parsed.ok) return parsed;
      const now = clock.now();
      return { ok: true, value: await store.upsertAccount({ id: ids.hex32(), merchantId, name, connector: factory.name, settings: parsed.value, createdAt: now, updatedAt: now }) };
    },
    accounts: (merchantId) => store.accounts(merchantId),
    async removeAccount(merchantId, name) {
      const wf = await workflow(merchantId, 'payment-acceptance');
      // An account a cascade names stays until the workflow stops naming it.
      if (wf?.accounts.includes(name)) return false;
      return store.removeAccount(merchantId, name);
    },
    workflow,
    async configure(merchantId, code, input) {
      const current = await workflow(merchantId, code);
      if (!current) return { ok: false, error: `no workflow ${JSON.stringify(code)}`, notFound: true };
      const parsed = parseWorkflowConfig(input, current);
      if (!parsed.ok) return parsed;
      const known = new Set((await store.accounts(merchantId)).map((a) => a.name));
      const missing = parsed.value.accounts.filter((n) => n !== defaultAccount.name && !known.has(n));
      if (missing.length > 0) return { ok: false, error: `unknown PSP account(s): ${missing.join(', ')}` };
      await store.setWorkflow(merchantId, code, parsed.value, clock.now());
      return parsed;
    },
    async rulesOf(merchantId, code) {
      const wf = (await workflow(merchantId, code)) ?? defaultWorkflow;
      const byName = new Map((await store.accounts(merchantId)).map((a) => [a.name, a]));
      const accounts = wf.accounts.map((n) => (n === defaultAccount.name ? defaultAccount : byName.get(n)))
        .filter((a) => a !== undefined).map((a) => ({ id: a.id, name: a.name, connector: a.connector }));
      return { accounts: accounts.length > 0 ? accounts : [defaultAccount], moveOn: wf.moveOn };
    },
    async routedAccount(accountId) {
      const a = await store.account(accountId);
      return a && { id: a.id, name: a.name, connector: a.connector, settings: a.settings };
    },
  };
}
