import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimulatedAcquirer } from './connector.ts';
import { Pan } from '../../vault/card.ts';

test('the in-process simulated acquirer keeps a bounded memory of attempts (it runs in every gateway as the test-mode acquirer)', async () => {
  const sim = createSimulatedAcquirer();
  const card = { pan: new Pan('4200000000000000'), cvv: undefined, brand: 'VISA', holder: 'Jane Jones', expiryMonth: '05', expiryYear: '2034' } as const;
  const attempt = (i: number) => `a${String(i).padStart(31, '0')}`;
  for (let i = 0; i < 60_000; i++) {
    const answer = await sim.execute({ operation: 'authorize', attemptId: attempt(i), amount: { amount: 9200, currency: 'EUR' as never }, live: false, card, testParameters: {} });
    assert.equal(answer.kind, 'approved');
  }
  assert.ok(sim.received.size <= 10_000, `${sim.received.size} received attempts kept`);
  // A recent attempt is still known (a retry gets its answer, the reconciler finds it); the oldest are forgotten.
  assert.equal((await sim.lookup(attempt(59_999)))?.kind, 'approved');
  assert.equal(await sim.lookup(attempt(0)), undefined);
});
