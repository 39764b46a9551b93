/**
 * A gateway with the OPP-family, Adyen and Stripe fakes behind recording proxies: a test configures the
 * account it wants and reads what the connector sent (`sentTo`).
 */
import { startGateway, type Gateway } from './harness.ts';
import { startOppFake, type OppFake } from './fake-psps/opp.ts';
import { startAdyenFake, type AdyenFake } from './fake-psps/adyen.ts';
import { startStripeFake, type StripeFake } from './fake-psps/stripe.ts';
import { pspProxy, type PspProxy } from './psp-proxy.ts';

export interface RecordedPsps {
  readonly gw: Gateway;
  readonly toAcquirer: PspProxy;
  readonly toAdyen: PspProxy;
  readonly toStripe: PspProxy;
  close(): Promise<void>;
}

export async function gatewayAtRecordedPsps(): Promise<RecordedPsps> {
  const [gw, acquirer, adyen, stripe]: [Gateway, OppFake, AdyenFake, StripeFake] = await Promise.all([startGateway(), startOppFake(), startAdyenFake(), startStripeFake()]);
  const [toAcquirer, toAdyen, toStripe] = await Promise.all([pspProxy(acquirer.url), pspProxy(adyen.url), pspProxy(stripe.url)]);
  return {
    gw, toAcquirer, toAdyen, toStripe,
    async close() {
      await gw.close();
      await Promise.all([toAcquirer.close(), toAdyen.close(), toStripe.close(), acquirer.close(), adyen.close(), stripe.close()]);
    },
  };
}

/** The body of the last POST to `path` the proxy passed on. */
export const sentTo = (proxy: PspProxy, path: string): string | undefined => proxy.calls.filter((c) => c.method === 'POST' && c.url === path).at(-1)?.body;
