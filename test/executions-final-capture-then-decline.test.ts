/**
 * Of two captures at once, a final one that succeeds first (closing the authorization, the rest
 * released) and a non-final one the PSP then declines: the execution ends `captured`. It was left
 * `partiallyCaptured`, offering a capture the engine can only refuse.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import { startGateway, postgresAvailable, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

const pgUp = await postgresAvailable();
let held: PromiseWithResolvers<void> | undefined;
let reached: () => void = () => {};
function declineHeld40(psp: Connector): Connector {
  return {
    ...psp,
    async execute(req: ConnectorRequest) {
      if (req.operation === 'capture' && req.amount.amount === 4000 && held) {
        reached();
        await held.promise;
        return { kind: 'declined', reason: 'soft', acquirerCode: '800.100.152', message: undefined, pspReference: undefined, details: {} };
      }
      return psp.execute(req);
    },
  };
}
const eur = (value: string) => ({ value, currency: 'EUR' });

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`final capture, then the other declined (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let gw: Gateway;
    let token: string;
    before(async () => {
      gw = await startGateway({ store, processor: declineHeld40(createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 })) });
      token = await tokenOf(gw);
    });
    after(() => gw?.close());

    test('a final capture succeeds while a non-final one is at the PSP, which then declines it: the execution ends captured', async () => {
      const inst = await instrument(gw, token);
      const id = await execution(gw, token);
      await call(gw, 'POST', `${wf}/${id}/authorize`, { token, body: authorizeBody(inst, '100.00') });
      assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
      held = Promise.withResolvers<void>();
      const atPsp = Promise.withResolvers<void>();
      reached = atPsp.resolve;
      const nonFinal = call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('40.00'), final: false } });
      await atPsp.promise;
      // Beside it (as two requests that both read `authorized` reach the engine), a final capture.
      const paymentId = (await call(gw, 'GET', `${wf}/${id}`, { token })).body.paymentComposition[0].paymentId as string;
      const merchant = (await gw.app.merchants.byId(gw.merchant.merchantId))!;
      const action = { id: randomUUID(), name: 'capture' as const, requestedAt: Date.now(), amount: { amount: 5000, currency: 'EUR' as const } };
      const fin = await gw.app.payments.followUp({
        merchant, scope: { channel: 'executions' }, kind: 'capture', referencedId: paymentId, amount: { amount: 5000, currency: 'EUR' },
        merchantTransactionId: undefined, context: { executionAction: action }, testParameters: {}, final: true,
      } as never);
      assert.ok(fin.ok, JSON.stringify(fin));
      await gw.app.payments.idle();
      held.resolve();
      held = undefined;
      await nonFinal;
      await gw.app.payments.idle();
      const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
      const rows = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', paymentId).orderBy('seq').execute();
      const money = rows.map((r) => `${r.type}:${r.status}:${Number(r.amount)}`).join(' ');
      // The final capture closed the authorization (the rest released): nothing more can be captured.
      const more = await call(gw, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body: { amount: eur('10.00') } });
      assert.deepEqual([e.status, e.links?.capture === undefined], ['captured', true], `${e.status} (${money}); a capture now: ${more.status} ${JSON.stringify(more.body).slice(0, 200)}`);
    });
  });
}
