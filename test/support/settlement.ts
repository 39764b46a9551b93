import assert from 'node:assert/strict';
import type { Clock } from '../../src/runtime/clock.ts';
import type { SettlementAccount } from '../../src/ledger/store.ts';
import { startGateway, type Gateway } from './harness.ts';

/** A gateway whose merchant's cascade is one simulated PSP account, `acq`, and that account as settlement reads it. */
export async function gatewayWithSettlementAccount(clock: Clock, store: 'sqlite' | 'postgres'): Promise<{ gw: Gateway; account: SettlementAccount }> {
  const gw = await startGateway({ clock, store });
  assert.ok((await gw.app.workflows.putAccount(gw.merchant.merchantId, 'acq', { connector: 'simulator', settings: {} })).ok);
  assert.ok((await gw.app.workflows.configure(gw.merchant.merchantId, 'payment-acceptance', { accounts: ['acq'] })).ok);
  const found = await gw.app.settlement.account('acq', gw.merchant.merchantId);
  assert.ok(found.ok);
  return { gw, account: found.value };
}
