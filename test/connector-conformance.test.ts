/**
 * Every connector passes the one conformance suite (test/support/connector-conformance.ts): the
 * simulated acquirer in process, and the OPP-family, Adyen and Stripe connectors over HTTP against
 * fakes of their PSPs (test/support/fake-psps/) written from each vendor's contract.
 */
import { runConformance, type SubjectRun } from './support/connector-conformance.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { createOppConnector } from '../src/processors/opp/connector.ts';
import { createAdyenConnector } from '../src/processors/adyen/connector.ts';
import { createStripeConnector } from '../src/processors/stripe/connector.ts';
import { startOppFake, oppFakeCredentials } from './support/fake-psps/opp.ts';
import { startAdyenFake, adyenFakeCredentials } from './support/fake-psps/adyen.ts';
import { startStripeFake, stripeFakeCredentials } from './support/fake-psps/stripe.ts';
import type { ShopperRedirect } from '../src/processors/outcome.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cvv, Pan } from '../src/vault/card.ts';
import { money, type Currency } from '../src/money/money.ts';
import { suiteCards } from './support/fake-psps/bank.ts';

/** A shortened call timeout: the lost-answer case waits for it. */
const timeoutMs = 1_500;

/** The shopper's browser: follows the PSP's redirect, passes or fails its page, and reads what the PSP appended to our return URL. */
async function shopper(redirect: ShopperRedirect, passed: boolean): Promise<Record<string, string>> {
  const url = new URL(redirect.url);
  url.searchParams.set('outcome', passed ? 'passed' : 'failed');
  const body = redirect.method === 'POST' ? new URLSearchParams(redirect.parameters.map((p) => [p.name, p.value])).toString() : undefined;
  const res = await fetch(url, { method: redirect.method, redirect: 'manual', ...(body ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}) });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`the PSP's page answered ${res.status}`);
  return Object.fromEntries(new URL(location).searchParams);
}

runConformance({
  name: 'simulator',
  lostAnswers: 'lookup',
  noPspThreeDs: 'the simulated acquirer leaves 3-D Secure to the engine\'s own gate',
  noInbound: 'the simulated acquirer sends no notifications',
  async start(): Promise<SubjectRun> {
    const sim = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
    return {
      connector: sim,
      charges: () => [...sim.received.values()].filter((r) => r.operation === 'authorize' || r.operation === 'sale').length,
      close: async () => {},
    };
  },
});

runConformance({
  name: 'opp',
  lostAnswers: 'lookup',
  noInbound: 'OPP-family acquirers notify the merchant\'s own webhook, not a connector',
  async start() {
    const fake = await startOppFake();
    const connector = createOppConnector({ baseUrl: fake.url, ...oppFakeCredentials }, timeoutMs);
    return { connector, charges: () => fake.bank.charges(), shopper, close: fake.close };
  },
});

runConformance({
  name: 'adyen',
  lostAnswers: 'webhook',
  async start() {
    // An account with multiple partial captures: the shared cases capture in parts.
    const fake = await startAdyenFake({ multiplePartialCaptures: true });
    const connector = createAdyenConnector({ baseUrl: fake.url, ...adyenFakeCredentials, multiplePartialCaptures: true }, timeoutMs);
    return {
      connector, charges: () => fake.bank.charges(), shopper, close: fake.close,
      notifications: () => fake.takeNotifications().map((body) => ({ headers: { 'content-type': 'application/json' }, body })),
    };
  },
});

runConformance({
  name: 'stripe',
  lostAnswers: 'lookup',
  async start() {
    const fake = await startStripeFake();
    const connector = createStripeConnector({ baseUrl: fake.url, ...stripeFakeCredentials }, timeoutMs);
    return {
      connector, charges: () => fake.bank.charges(), shopper, close: fake.close,
      notifications: () => fake.takeEvents().map((e) => ({ headers: { 'stripe-signature': e.signature }, body: e.body })),
    };
  },
});

test('adyen: a return carrying another payment\'s redirectResult finishes nothing', async () => {
  const fake = await startAdyenFake();
  try {
    const connector = createAdyenConnector({ baseUrl: fake.url, ...adyenFakeCredentials }, timeoutMs);
    const request = (attemptId: string) => ({
      operation: 'authorize' as const, attemptId, amount: money(500, 'EUR' as Currency), live: false, testParameters: {}, returnUrl: 'https://gw.example/r',
      card: { pan: new Pan(suiteCards.challenge), cvv: new Cvv('737'), brand: 'VISA' as const, holder: undefined, expiryMonth: '03', expiryYear: '30' },
    });
    const mine = await connector.execute(request('a'.repeat(32)));
    const theirs = await connector.execute(request('b'.repeat(32)));
    assert.ok(mine.kind === 'pending' && mine.redirect && theirs.kind === 'pending' && theirs.redirect);
    const theirReturn = await shopper(theirs.redirect, true);
    await assert.rejects(connector.complete!({ attemptId: 'a'.repeat(32), amount: money(500, 'EUR' as Currency), pspReference: mine.pspReference, parameters: theirReturn }), /another payment/);
    assert.equal((await connector.complete!({ attemptId: 'b'.repeat(32), amount: money(500, 'EUR' as Currency), pspReference: theirs.pspReference, parameters: theirReturn })).kind, 'approved');
  } finally {
    await fake.close();
  }
});
