import type { ConnectorFactory } from './connector.ts';
import { simulatorFactory, type SimulatedAcquirer } from './simulator/connector.ts';
import { oppFactory } from './opp/connector.ts';
import { adyenFactory } from './adyen/connector.ts';
import { stripeFactory } from './stripe/connector.ts';

/** Every connector this build offers to PSP accounts: one line each. */
export function connectorFactories(deps: { simulator: SimulatedAcquirer }): ConnectorFactory[] {
  return [
    simulatorFactory(deps.simulator),
    oppFactory,
    adyenFactory,
    stripeFactory,
  ];
}
