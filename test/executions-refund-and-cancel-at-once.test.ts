/**
 * A refund and a cancel asked at once (two nodes on PostgreSQL), with a PSP that answers at once:
 * the refund is slow at the PSP, the cancel refunds the rest and ends first. The refund's approval
 * must still reach the execution (its action, history entry and webhook).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import type { Outcome } from '../src/processors/outcome.ts';
import { postgresAvailable, secondNode, startGateway } from './support/harness.ts';
import { authorizedExecution, call, tokenOf, wf } from './support/executions.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

const pgUp = await postgresAvailable();
type Answer = Exclude<Outcome, { kind: 'unknown' }>;
const approved = (ref: string): Answer => ({ kind: 'approved', pspReference: ref, acquirerCode: '000.000.000', details: {} });

/** The first refund is held until a second refund (the cancel's) has been answered. */
function psp() {
  let n = 0;
  let release: (() => void) | undefined;
  let held: (v: unknown) => void = () => {};
  const firstAtPsp = new Promise((r) => { held = r; });
  const connector: Connector = {
    name: 'slow-refund', operations: ['authorize', 'capture', 'void', 'refund'],
    async execute(req: ConnectorRequest) {
      if (req.operation === 'refund' && !release) {
        return new Promise<Answer>((resolve) => { release = () => resolve(approved(`F${++n}`)); held(undefined); });
      }
      if (req.operation === 'refund') setTimeout(() => release?.(), 150);
      return approved(`R${++n}`);
    },
    async lookup() { return undefined; },
  };
  return { connector, firstAtPsp };
}

test('a refund that ends after a cancel asked beside it reaches the execution', { skip: !pgUp && 'PostgreSQL unreachable' }, async () => {
  const p = psp();
  const gw = await startGateway({ store: 'postgres', processor: p.connector });
  const b = await secondNode(gw, { processor: p.connector });
  try {
    const token = await tokenOf(gw);
    const { id } = await authorizedExecution(gw, token, 'refund-and-cancel', '4111111111111111', '100.00');
    assert.equal((await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '100.00', currency: 'EUR' } } })).status, 202);
    await gw.app.payments.idle();
    assert.equal((await call(gw, 'GET', `${wf}/${id}`, { token })).body.status, 'captured');
    const refund = call(gw, 'POST', `${wf}/${id}/refund`, { token, key: randomUUID(), body: { amount: { value: '30.00', currency: 'EUR' } } });
    await p.firstAtPsp;
    const cancel = await call(b, 'POST', `${wf}/${id}/cancel`, { token, key: randomUUID(), body: {} });
    assert.equal(cancel.status, 202, JSON.stringify(cancel.body));
    assert.equal((await refund).status, 202);
    await new Promise((r) => setTimeout(r, 500));
    await gw.app.payments.idle(); await b.app.payments.idle();
    const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    const codes = e.statusHistory.map((h: { code: string }) => h.code);
    const dropped = gw.logs.filter((l) => l.includes('moved outside its state machine'));
    const v = (await checkInvariants(gw.app.storage.db, { merchantIds: [gw.merchant.merchantId] }));
    assert.deepEqual({ dropped, refundEnded: codes.includes('refundSuccessful'), violations: describeViolations(v) },
      { dropped: [], refundEnded: true, violations: '' }, `status ${e.status}, refunded ${e.refundedAmount?.value}, history ${codes}`);
  } finally {
    await b.app.close();
    await gw.close();
  }
});
