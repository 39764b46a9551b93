/** Execution ids in the path are found whatever their case, and a retry naming one in upper case is the same request (SQLite and PostgreSQL). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startGateway, postgresAvailable, type Gateway } from './support/harness.ts';
import { authorizeBody, call, execution, instrument, poll, tokenOf, wf } from './support/executions.ts';

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`an execution named in upper case, then retried in lower case under the same key (${store})`, { skip: store === 'postgres' && !(await postgresAvailable()) ? 'PostgreSQL unreachable' : undefined }, () => {
    let gw: Gateway; let token: string;
    before(async () => { gw = await startGateway(store === 'postgres' ? { store } : {}); token = await tokenOf(gw); });
    after(() => gw.close());
    test('the execution is found either way and authorized once', async () => {
      const inst = await instrument(gw, token);
      const id = await execution(gw, token);
      const key = randomUUID();
      const first = await call(gw, 'POST', `${wf}/${id.toUpperCase()}/authorize`, { token, key, body: authorizeBody(inst, '10.00') });
      const retry = await call(gw, 'POST', `${wf}/${id}/authorize`, { token, key, body: authorizeBody(inst, '10.00') });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(retry.status, 200, `the lower-case retry with the same key answered ${retry.status} ${JSON.stringify(retry.body)}`);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(retry.body, first.body);
      assert.equal((await poll(gw, token, id, ['created', 'authorizeRequested'])).status, 'authorized');
      const payments = await gw.app.storage.db.selectFrom('executions').select('payment_id').where('id', '=', id).execute();
      const attempts = await gw.app.storage.db.selectFrom('attempts').select('id').where('payment_id', '=', payments[0]!.payment_id!).execute();
      assert.equal(attempts.length, 1, 'authorized once');
    });
  });
}
