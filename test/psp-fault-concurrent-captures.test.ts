/**
 * Shrunk from a longer run of test/psp-fault-sequences.test.ts (executions, sequences of ten, two
 * nodes on PostgreSQL): two captures asked at once, the PSP declines the first and approves the
 * second. 25.00 is captured and the rest released at the PSP; the execution must say so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Connector, ConnectorRequest } from '../src/processors/connector.ts';
import type { Outcome } from '../src/processors/outcome.ts';
import { postgresAvailable, secondNode, startGateway } from './support/harness.ts';

const pgUp = await postgresAvailable();
import { authorizedExecution, call, tokenOf, wf } from './support/executions.ts';
import { checkInvariants, describeViolations } from './support/invariants.ts';

type Answer = Exclude<Outcome, { kind: 'unknown' }>;
const approved = (ref: string): Answer => ({ kind: 'approved', pspReference: ref, acquirerCode: '000.000.000', details: {} });
const declined: Answer = { kind: 'declined', reason: 'soft', acquirerCode: '800.100.152', message: undefined, pspReference: undefined, details: {} };

/** Captures are held until two are at the PSP: the first is declined, the second approved 100 ms later. */
function psp() {
  const captures: { req: ConnectorRequest; answer: (a: Answer) => void }[] = [];
  let n = 0;
  const connector: Connector = {
    name: 'two-captures', operations: ['authorize', 'capture', 'void', 'refund'],
    async execute(req) {
      if (req.operation !== 'capture') return approved(`R${++n}`);
      return new Promise<Answer>((resolve) => {
        captures.push({ req, answer: resolve });
        if (captures.length === 2) {
          captures[0]!.answer(declined);
          setTimeout(() => captures[1]!.answer(approved(`C${++n}`)), 100);
        }
        setTimeout(() => { if (captures.length === 1) captures[0]!.answer(declined); }, 2000);
      });
    },
    async lookup() { return undefined; },
  };
  return { connector, captures };
}

test('a capture the PSP approves after a concurrent one it declined shows as captured, not captureFailed', { skip: !pgUp && 'PostgreSQL unreachable' }, async () => {
  const p = psp();
  const gw = await startGateway({ store: 'postgres', processor: p.connector });
  const b = await secondNode(gw, { processor: p.connector });
  try {
    const token = await tokenOf(gw);
    const { id } = await authorizedExecution(gw, token, 'captures-at-once', '4111111111111111', '100.00');
    const body = { amount: { value: '25.00', currency: 'EUR' } };
    const rs = await Promise.all([gw, b].map((n) => call(n, 'POST', `${wf}/${id}/capture`, { token, key: randomUUID(), body })));
    assert.deepEqual(rs.map((r) => r.status), [202, 202], 'both captures were taken');
    await new Promise((r) => setTimeout(r, 300));
    await gw.app.payments.idle();
    const e = (await call(gw, 'GET', `${wf}/${id}`, { token })).body;
    const rows = await gw.app.storage.db.selectFrom('transactions').select(['type', 'status', 'amount']).where('payment_id', '=', e.paymentComposition[0].paymentId).orderBy('seq').execute();
    const books = rows.map((r) => `${r.type} ${r.status} ${Number(r.amount)}`);
    const v = await checkInvariants(gw.app.storage.db, { merchantIds: [gw.merchant.merchantId] });
    const events = (await gw.app.storage.db.selectFrom('outbox').select(['type', 'payload']).where('subject_id', '=', id).execute())
      .map((x) => `${x.type}${JSON.parse(String(x.payload)).data?.action?.name ? ':' + JSON.parse(String(x.payload)).data?.action?.name : ''}`);
    assert.ok(books.includes('capture succeeded 2500'), `the PSP captured 25.00: ${books.join(', ')}`);
    assert.deepEqual({ status: e.status, captured: e.capturedAmount?.value, violations: describeViolations(v) },
      { status: 'captured', captured: '25.00', violations: '' }, `books: ${books.join(', ')}; events: ${events.join(', ')}`);
  } finally {
    await b.app.close();
    await gw.close();
  }
});
