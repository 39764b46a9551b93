import type { Connector, ConnectorFactory } from './connector.ts';
import { withTimeout, type Breakers } from './breaker.ts';

/** A PSP account as routing sees it: which connector serves it, with what settings. */
export interface RoutedAccount {
  readonly id: string;
  readonly name: string;
  readonly connector: string;
  /** The connector's settings, credentials opened for the call (never kept). */
  readonly settings: unknown;
  /** The account's own request timeout; undefined: the gateway's. */
  readonly timeoutMs: number | undefined;
}

/** The account every payment uses when its merchant routes nowhere else: the gateway's own acquirer. */
export const defaultAccount = { id: 'default', name: 'default', connector: 'default' } as const;

export interface ConnectorRegistry {
  /** Names of the connectors a PSP account may use. */
  readonly names: readonly string[];
  factory(name: string): ConnectorFactory | undefined;
  /**
   * The connector behind an account id (`default` or undefined: the gateway's own acquirer), behind
   * its timeout and (a real PSP's) circuit breaker, refusing live requests if it is simulated. An account that no
   * longer exists, or names a connector this build lacks, has none.
   */
  connectorFor(accountId: string | undefined): Promise<Connector | undefined>;
}

/**
 * Maps PSP accounts to connectors. Settings are read per call, so a changed account applies at
 * once on every node. Adding a connector is its folder plus one entry in the list given here.
 * `defaultTimeoutMs` bounds calls of accounts without a timeout of their own.
 */
export function createConnectorRegistry(deps: {
  defaultConnector: Connector;
  factories: readonly ConnectorFactory[];
  accountOf: (id: string) => Promise<RoutedAccount | undefined>;
  breakers: Breakers;
  defaultTimeoutMs: number;
}): ConnectorRegistry {
  const byName = new Map(deps.factories.map((f) => [f.name, f]));
  // Simulated PSPs inject their faults on purpose (to exercise unknown outcomes and the reconciler):
  // a breaker would hide them, so only real PSPs get one. Every call is bounded by its timeout.
  const guarded = (id: string, c: Connector, timeoutMs: number) =>
    liveOnlyReal(c.simulated ? withTimeout(c, timeoutMs) : deps.breakers.guard(id, c, timeoutMs));
  return {
    names: [...byName.keys()],
    factory: (name) => byName.get(name),
    async connectorFor(accountId) {
      if (accountId === undefined || accountId === defaultAccount.id) return guarded(defaultAccount.id, deps.defaultConnector, deps.defaultTimeoutMs);
      const account = await deps.accountOf(accountId);
      const factory = account && byName.get(account.connector);
      if (!account || !factory) return undefined;
      // At most the gateway's: the reconciler leaves alone only attempts younger than twice that, so
      // a call allowed longer (a value stored before the setting was lowered) could still be under
      // way when the reconciler asks the PSP about it and moves the cascade on.
      const timeoutMs = Math.min(account.timeoutMs ?? deps.defaultTimeoutMs, deps.defaultTimeoutMs);
      const connector = factory.create({ id: account.id, settings: account.settings, timeoutMs });
      return guarded(account.id, { ...connector, simulated: connector.simulated || factory.simulated === true }, timeoutMs);
    },
  };
}

/**
 * A live payment never reaches a simulated PSP, whatever the configuration says (accounts are
 * checked when configured; this holds for the default acquirer and for accounts configured before
 * their merchant went live). Declined as `provider_error` without calling, so a cascade moves on.
 */
function liveOnlyReal(c: Connector): Connector {
  if (!c.simulated) return c;
  return {
    ...c,
    async execute(req) {
      if (req.live) return { kind: 'declined', reason: 'provider_error', acquirerCode: undefined, message: 'live payments go only to real PSP accounts (this one is simulated)', pspReference: undefined, details: {} };
      return c.execute(req);
    },
  };
}
