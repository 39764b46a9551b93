import type { Connector, ConnectorFactory } from './connector.ts';

/** A PSP account as routing sees it: which connector serves it, with what settings. */
export interface RoutedAccount {
  readonly id: string;
  readonly name: string;
  readonly connector: string;
  readonly settings: unknown;
}

/** The account every payment uses when its merchant routes nowhere else: the gateway's own acquirer. */
export const defaultAccount = { id: 'default', name: 'default', connector: 'default' } as const;

export interface ConnectorRegistry {
  /** Names of the connectors a PSP account may use. */
  readonly names: readonly string[];
  factory(name: string): ConnectorFactory | undefined;
  /**
   * The connector behind an account id (`default` or undefined: the gateway's own acquirer). An
   * account that no longer exists, or names a connector this build lacks, has none.
   */
  connectorFor(accountId: string | undefined): Promise<Connector | undefined>;
}

/**
 * Maps PSP accounts to connectors. Settings are read per call, so a changed account applies at
 * once on every node. Adding a connector is its folder plus one entry in the list given here.
 */
export function createConnectorRegistry(deps: {
  defaultConnector: Connector;
  factories: readonly ConnectorFactory[];
  accountOf: (id: string) => Promise<RoutedAccount | undefined>;
}): ConnectorRegistry {
  const byName = new Map(deps.factories.map((f) => [f.name, f]));
  return {
    names: [...byName.keys()],
    factory: (name) => byName.get(name),
    async connectorFor(accountId) {
      if (accountId === undefined || accountId === defaultAccount.id) return deps.defaultConnector;
      const account = await deps.accountOf(accountId);
      if (!account) return undefined;
      return byName.get(account.connector)?.create(account);
    },
  };
}
