/**
 * The card-erasure job on one node while payments are recorded on another (PostgreSQL): a charge
 * accepted (its operation recorded while its registration was enabled and held) is sent with its
 * card even when the registration is deleted and the job runs before the charge reads the card. A
 * rebill on a captured payment leaves the payment's status as it was; the job's check counts the
 * open operation, not the payment's status (it erased the card under such a rebill, which then
 * failed with "card vanished", never sent).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { opp, postgresAvailable, secondNode, startGateway, testCard, type Gateway } from './support/harness.ts';
import { createCardErasure } from '../src/vault/erasure.ts';
import { createVaultStore } from '../src/vault/kysely-store.ts';
import { createPaymentStore } from '../src/payments/kysely-store.ts';
import type { App } from '../src/app.ts';

const pgUp = await postgresAvailable();

describe('card erasure on node B while node A charges (PostgreSQL)', { skip: pgUp ? false : 'PostgreSQL unreachable' }, () => {
  let a: Gateway;
  let b: { app: App; url: string; merchant: Gateway['merchant'] };
  let eraseOnB: () => Promise<number>;
  before(async () => {
    a = await startGateway({ store: 'postgres' });
    b = await secondNode(a);
    // Node B's erasure job, as app.ts builds it, driven directly (no hour to wait between passes).
    const uow = b.app.storage.uow;
    const payments = createPaymentStore(uow);
    eraseOnB = createCardErasure({
      store: createVaultStore(uow), clock: { now: () => Date.now() }, inUse: (c) => payments.openWithCard(c), ephemeralTtlMs: 30 * 60_000,
      decoyKey: (c) => b.app.vault.decoyKey(c),
    }).eraseDeleted;
  });
  after(async () => { await b?.app.close(); await a?.close(); });

  test('a rebill of a registration payment accepted just before the registration is deleted on the other node is sent, not failed by the erasure', async () => {
    const bad: string[] = [];
    for (let i = 0; i < 10 && bad.length === 0; i++) {
      const reg = await opp(a, 'POST', '/v1/registrations', testCard);
      const db = await opp(a, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '10.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
      assert.equal(db.body.result.code, '000.100.110', JSON.stringify(db.body));
      let stop = false;
      const eraser = (async () => { while (!stop) await eraseOnB(); })();
      const rebill = opp(a, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RB', amount: '10.00', currency: 'EUR' });
      await new Promise((r) => setTimeout(r, i % 5));
      const del = await opp(b, 'DELETE', `/v1/registrations/${reg.body.id}`);
      const rb = await rebill;
      stop = true;
      await eraser;
      assert.equal(del.body.result.code, '000.100.110');
      // Accepted and charged, or refused because the deletion came first: never an error.
      const code = rb.body?.result?.code;
      if (!((rb.status === 200 && code === '000.100.110') || (rb.status === 400 && code === '100.150.202'))) bad.push(`round ${i}: ${rb.status} ${JSON.stringify(rb.body)}`);
    }
    assert.deepEqual(bad, [], 'a rebill accepted before the deletion failed because its card was erased');
  });

  /**
   * Stalls node A (a pause, a frozen VM) after the first unit of work that leaves `committed()` true
   * (a charge recorded), before it reads the card for the PSP, until released.
   */
  function stallAfter(committed: () => Promise<boolean>) {
    const uow = a.app.storage.uow as unknown as { run: (fn: (tx: unknown) => Promise<unknown>, o?: unknown) => Promise<unknown> };
    const run = uow.run.bind(uow);
    let resume!: () => void;
    let stalled!: () => void;
    const isStalled = new Promise<void>((r) => { stalled = r; });
    uow.run = async (fn, o) => {
      const value = await run(fn, o);
      if (await committed()) {
        uow.run = run;
        stalled();
        await new Promise<void>((r) => { resume = r; });
      }
      return value;
    };
    return { isStalled, resume: () => resume() };
  }

  test('a rebill of a registration payment, recorded while the registration was enabled, is charged although B deleted the registration and ran the erasure before A read the card', async () => {
    const reg = await opp(a, 'POST', '/v1/registrations', testCard);
    const db = await opp(a, 'POST', `/v1/registrations/${reg.body.id}/payments`, { amount: '10.00', currency: 'EUR', paymentType: 'DB', 'standingInstruction.source': 'MIT' });
    assert.equal(db.body.result.code, '000.100.110', JSON.stringify(db.body));
    const stall = stallAfter(async () => (await a.app.storage.db.selectFrom('transactions').select('id').where('payment_id', '=', db.body.id).where('type', '=', 'rebill').execute()).length > 0);
    const rebill = opp(a, 'POST', `/v1/payments/${db.body.id}`, { paymentType: 'RB', amount: '10.00', currency: 'EUR' });
    await stall.isStalled;
    // The rebill is recorded (it held the registration, enabled): the deletion comes after it.
    const del = await opp(b, 'DELETE', `/v1/registrations/${reg.body.id}`);
    assert.equal(del.body.result.code, '000.100.110');
    const erased = await eraseOnB();
    stall.resume();
    const rb = await rebill;
    await a.app.payments.idle();
    const ops = await a.app.storage.db.selectFrom('transactions').select(['type', 'status', 'result_code']).where('payment_id', '=', db.body.id).orderBy('seq').execute();
    assert.equal(rb.body?.result?.code, '000.100.110',
      `the rebill accepted before the deletion was not charged (erasure pass erased ${erased} card(s)): ${rb.status} ${JSON.stringify(rb.body)}; operations ${JSON.stringify(ops)}; logs: ${a.logs.filter((l) => /vanished|error/i.test(l)).slice(-3).join(' | ')}`);
  });
});
