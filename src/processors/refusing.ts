import type { Connector, ConnectorOperation } from './connector.ts';

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
