/**
 * A shopper's payment whose first account's answer was lost before a long outage (a failed host
 * over a weekend): when the gateway runs again, the reconciler learns that account declined it. The
 * shopper was told days ago that it did not go through, and may have paid again: the cascade does
 * not take it up at its next account past the time a shopper may wait (the asynchronous timeout,
 * since the last attempt), whether the reconciler or the PSP's notification tells it; the payment
 * ends with the decline learnt.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../src/runtime/clock.ts';
import { opp, pay, postgresAvailable, startGateway, type Gateway } from './support/harness.ts';
import { configureCascade } from './support/executions.ts';

const pgUp = await postgresAvailable();

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`a cascade interrupted before a long outage (${store})`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    const clock = manualClock(Date.now());
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ store, clock, env: { SWITCHYARD_PSP_TIMEOUT_MS: '200' } });
      // acq-a declines this card softly, and its answer is lost (processed, never answered).
      // (4200000000000042 as well, which the engine's own 3-D Secure challenges.)
      const lossy = { connector: 'simulator', settings: { declines: [{ category: 'soft', cardSuffixes: ['0000', '0042'] }], timeouts: [{ cardSuffixes: ['0000', '0042'] }] }, timeoutMs: 100 };
      await configureCascade(gw, { 'acq-a': lossy, 'acq-b': { connector: 'simulator', settings: {} } }, ['acq-a', 'acq-b'], ['soft', 'error']);
    });
    after(() => gw?.close());

    const attemptsOf = async (id: string) => (await gw.app.storage.db.selectFrom('attempts').select(['seq', 'account_name', 'status'])
      .where('transaction_id', '=', id).orderBy('seq').execute()).map((a) => [a.account_name, a.status]);

    test('is not charged at the next account three days later: it ends with the decline learnt', async () => {
      const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
      assert.equal(p.body.result.code, '900.100.300', JSON.stringify(p.body));
      clock.advance(3 * 86_400_000);
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
      assert.deepEqual(await attemptsOf(p.body.id), [['acq-a', 'failed']], 'the card was sent to acq-b three days after the shopper left');
      const q = await opp(gw, 'GET', `/v1/query/${p.body.id}`);
      assert.match(q.body.result.code, /^800\./, `the payment ends with acq-a's soft decline: ${JSON.stringify(q.body.result)}`);
    });

    test('a decline its PSP notifies three days later does not charge the card at the next account either', async () => {
      const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
      assert.equal(p.body.result.code, '900.100.300', JSON.stringify(p.body));
      const first = await gw.app.storage.db.selectFrom('attempts').select(['id', 'account_id']).where('transaction_id', '=', p.body.id).executeTakeFirstOrThrow();
      clock.advance(3 * 86_400_000);
      // How a PSP without a status API (Adyen) tells a lost answer's outcome, retried after an outage.
      assert.equal(await gw.app.payments.settleFromPsp(first.account_id, first.id,
        { kind: 'declined', reason: 'soft', acquirerCode: '800.100.151', message: undefined, pspReference: 'PSP-A-1', details: {} }), true);
      await gw.app.payments.idle();
      assert.deepEqual(await attemptsOf(p.body.id), [['acq-a', 'failed']], 'the card was sent to acq-b three days after the shopper left');
      const q = await opp(gw, 'GET', `/v1/query/${p.body.id}`);
      assert.match(q.body.result.code, /^800\./, JSON.stringify(q.body.result));
    });

    test('a shopper who finished the challenge just before its page expired still gets the next account: the wait counts from the last attempt', async () => {
      const p = await pay(gw, { paymentType: 'PA', amount: '10.00', 'card.number': '4200000000000042', shopperResultUrl: 'https://shop.example/back' });
      assert.equal(p.body.result.code, '000.200.000', JSON.stringify(p.body));
      // The shopper completes the challenge a minute before its page expires; acq-a's answer is lost.
      clock.advance(gw.app.config.asyncTimeoutMs - 60_000);
      await gw.app.payments.completeChallenge(p.body.id, 'completed');
      await gw.app.payments.idle();
      clock.advance(2 * 60_000);
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
      assert.deepEqual(await attemptsOf(p.body.id), [['acq-a', 'failed'], ['acq-b', 'succeeded']]);
    });

    test('one whose next attempt never started (a crash between the decline and it) ends with the decline after the outage; within the timeout it goes on', async () => {
      // As a crash leaves it: the first attempt recorded declined, the payment still pending, no next attempt.
      const crashed = async () => {
        const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
        const db = gw.app.storage.db;
        await db.updateTable('attempts').set({ status: 'failed', reason: 'soft', result_code: '800.100.151' }).where('transaction_id', '=', p.body.id).execute();
        await db.updateTable('transactions').set({ status: 'pending', unknown_since: null }).where('id', '=', p.body.id).execute();
        await db.updateTable('payments').set({ status: 'pending' }).where('id', '=', p.body.id).execute();
        return p.body.id as string;
      };
      const late = await crashed();
      clock.advance(3 * 86_400_000);
      const soon = await crashed();
      clock.advance(60_000);
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
      assert.deepEqual(await attemptsOf(late), [['acq-a', 'failed']], 'the card was sent to acq-b three days after the shopper left');
      const q = await opp(gw, 'GET', `/v1/query/${late}`);
      assert.match(q.body.result.code, /^800\./, `the payment ends with acq-a's decline: ${JSON.stringify(q.body.result)}`);
      assert.deepEqual(await attemptsOf(soon), [['acq-a', 'failed'], ['acq-b', 'succeeded']], 'a minute after the crash the cascade goes on');
    });

    test('within the timeout the cascade still goes on', async () => {
      const p = await pay(gw, { paymentType: 'PA', amount: '10.00' });
      clock.advance(60_000);
      await gw.app.payments.reconcile();
      await gw.app.payments.idle();
      assert.deepEqual(await attemptsOf(p.body.id), [['acq-a', 'failed'], ['acq-b', 'succeeded']]);
    });
  });
}
