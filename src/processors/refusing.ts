import type { Connector, ConnectorFactory, ConnectorOperation } from './connector.ts';
import type { Checked } from './settings.ts';

/**
 * The connector of an account whose stored settings no longer parse: nothing is sent and every
 * call declines (settings are validated when stored, so this means they were changed behind us).
 */
export function refusingConnector(name: string, operations: readonly ConnectorOperation[], error: string): Connector {
  return {
    name, operations,
    execute: async () => ({ kind: 'declined', reason: 'provider_error', acquirerCode: undefined, message: `PSP account settings invalid: ${error}`, pspReference: undefined, details: {} }),
    lookup: async () => { throw new Error(`PSP account settings invalid: ${error}`); },
  };
}

/**
 * The registry's entry of an HTTP connector: each account's connector from its own settings
 * (parsed again at every use) and its own timeout, or a refusing one when they no longer parse.
 */
export function httpConnectorFactory<S>(spec: {
  name: string;
  operations: readonly ConnectorOperation[];
  secretSettings: readonly string[];
  identitySettings: readonly string[];
  parseSettings: (input: unknown) => Checked<S>;
  connect: (settings: S, timeoutMs: number) => Connector;
  takesNotifications?: boolean;
}): ConnectorFactory {
  return {
    name: spec.name,
    ...(spec.takesNotifications ? { takesNotifications: true } : {}),
    parseSettings: spec.parseSettings,
    secretSettings: spec.secretSettings,
    identitySettings: spec.identitySettings,
    create(account) {
      const parsed = spec.parseSettings(account.settings);
      return parsed.ok ? spec.connect(parsed.value, account.timeoutMs) : refusingConnector(spec.name, spec.operations, parsed.error);
    },
  };
}
