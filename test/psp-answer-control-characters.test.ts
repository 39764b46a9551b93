/**
 * A PSP's own answer is input too: a NUL in its reference or code (PostgreSQL's text refuses one;
 * SQLite stores it) must not lose a payment the PSP approved. On PostgreSQL the store refused the
 * outcome's write after the PSP had charged, and the merchant was answered 500.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connector } from '../src/processors/connector.ts';
import { createSimulatedAcquirer } from '../src/processors/simulator/connector.ts';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';

const skip = !(await postgresAvailable());
const simulated = createSimulatedAcquirer({ latencyMs: 0, jitterMs: 0, timeoutRate: 0, errorRate: 0 });
/** A PSP that approves, its reference holding a NUL (a broken or hostile PSP, or a proxy in front of it). */
const approved = { kind: 'approved' as const, pspReference: 'PSP\u0000REF', acquirerCode: 'ok\u0000', details: {} };
const processor: Connector = {
  name: 'nul-psp',
  operations: simulated.operations,
  async execute() { return approved; },
  async lookup() { return approved; },
};

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`a PSP approving with a NUL in its reference, on ${store}`, { skip: store === 'postgres' && skip }, () => {
    let gw: Gateway;
    before(async () => { gw = await startGateway({ store, processor }); });
    after(() => gw?.close());

    test('the payment is answered approved and can be queried; the reference is kept without the NUL', async () => {
      const r = await pay(gw, { merchantTransactionId: `nul-psp-${store}` });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.match(r.body.result.code, /^000\.(000|100)\./, JSON.stringify(r.body.result));
      const q = await opp(gw, 'GET', `/v1/query/${r.body.id}`);
      assert.equal(q.status, 200, JSON.stringify(q.body));
      assert.match(q.body.result.code, /^000\.(000|100)\./, JSON.stringify(q.body.result));
      const stored = await gw.app.storage.db.selectFrom('transactions').select(['psp_reference', 'result_code']).where('id', '=', r.body.id).executeTakeFirstOrThrow();
      assert.deepEqual({ ...stored }, { psp_reference: 'PSP\uFFFDREF', result_code: 'ok\uFFFD' });
    });
  });
}
