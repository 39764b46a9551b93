/**
 * Group commit on the real server: concurrent payments share database commits, and a payment
 * waiting on a slow PSP holds no transaction, so other payments (another merchant's, on the same
 * single-writer SQLite store) run to their durable answer meanwhile.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { opp, postgresAvailable, startGateway, testCard, type Gateway } from './support/harness.ts';
import { authorizeBody, call, configureCascade, execution, instrument, tokenOf, wf } from './support/executions.ts';

const pgUp = await postgresAvailable();

async function metric(gw: Gateway, name: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`group commit on ${store}`, { skip: store === 'postgres' && !pgUp ? 'PostgreSQL unreachable' : false }, () => {
    let gw: Gateway;
    before(async () => { gw = await startGateway({ store }); });
    after(() => gw.close());

    test('a payment waiting 3 s on its PSP blocks no one: 24 payments of another merchant are answered, durable, meanwhile', async () => {
      await configureCascade(gw, { 'psp-slow': { latencyMs: 3000 } }, ['psp-slow']);
      const token = await tokenOf(gw);
      const slowId = await execution(gw, token);
      const inst = await instrument(gw, token);
      // The executions dialect answers an authorization at once and runs the cascade behind it.
      const accepted = await call(gw, 'POST', `${wf}/${slowId}/authorize`, { token, body: authorizeBody(inst) });
      assert.ok(accepted.status < 300, JSON.stringify(accepted.body));
      const slowStatus = async () => (await call(gw, 'GET', `${wf}/${slowId}`, { token })).body.status as string;
      assert.equal(await slowStatus(), 'authorizeRequested');

      const other = { url: gw.url, merchant: await gw.app.merchants.create({ name: 'Other Merchant' }) };
      const commitsBefore = await metric(gw, 'switchyard_commit_batch_size_count');
      const unitsBefore = await metric(gw, 'switchyard_commit_batch_size_sum');
      const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => opp(other, 'POST', '/v1/payments', {
        amount: '10.00', currency: 'EUR', paymentType: 'DB', merchantTransactionId: `gc-${i}`, ...testCard,
      })));
      assert.equal(await slowStatus(), 'authorizeRequested', 'the other merchant\'s payments were all answered while the slow PSP call was still out');
      // Nothing of the slow payment is locked while its PSP call is out: taking its row without
      // waiting succeeds (PostgreSQL runs several transactions at once, so the answers above alone
      // would not show a transaction held open across the call).
      const { payment_id: slowPayment } = await gw.app.storage.db.selectFrom('executions').select('payment_id').where('id', '=', slowId).executeTakeFirstOrThrow();
      assert.ok(slowPayment);
      if (store === 'postgres') {
        await gw.app.storage.db.transaction().execute(async (trx) => {
          await sql`SELECT id FROM payments WHERE id = ${slowPayment} FOR UPDATE NOWAIT`.execute(trx);
        });
        assert.equal(await slowStatus(), 'authorizeRequested', 'the row was taken while the PSP call was still out');
      }
      for (const a of answers) {
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.match(a.body.result.code, /^000\.100\.1/);
        const stored = await opp(other, 'GET', `/v1/payments/${a.body.id}`);
        assert.equal(stored.body.id, a.body.id, 'an answered payment is in the store');
      }
      const commits = await metric(gw, 'switchyard_commit_batch_size_count') - commitsBefore;
      const units = await metric(gw, 'switchyard_commit_batch_size_sum') - unitsBefore;
      assert.ok(units >= 48, `each payment is at least two units of work (intent, outcome): ${units}`);
      if (store === 'sqlite') assert.ok(commits < units, `units shared commits: ${units} units in ${commits} commits`);

      const r = await call(gw, 'GET', `${wf}/${slowId}?waitWhile[status]=${encodeURIComponent('["authorizeRequested"]')}`, { token });
      assert.equal(r.body.status, 'authorized');
    });
  });
}
