/**
 * PostgreSQL restarts while a payment's PSP call is out: the PSP has charged the card, the outcome
 * cannot be written, and the database is still away when the answer is made. The payment is
 * answered in doubt, 900.100.300 with its id, from what the request holds (a fresh read fails as
 * the write did), never 503 "nothing happened, send it again": a merchant sending it again without
 * a unique reference would charge the shopper twice, with no id to find the first payment by. The
 * reconciler settles it once the database is back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pay, postgresAvailable, startGateway } from './support/harness.ts';
import { acquirerRestartingPostgres } from './support/postgres-proxy.ts';

const skip = (await postgresAvailable()) ? undefined : 'PostgreSQL unreachable';

test('a payment the PSP approved while PostgreSQL restarted is answered 900.100.300 with its id, and settled once the database is back', { skip }, async () => {
  const psp = await acquirerRestartingPostgres(2000);
  const gw = await startGateway({ store: 'postgres', processor: psp.acquirer, env: { DATABASE_URL: psp.url, SWITCHYARD_PSP_TIMEOUT_MS: '500' } });
  try {
    assert.equal((await pay(gw)).status, 200);
    psp.arm();
    const r = await pay(gw, { merchantTransactionId: 'restart-during-psp-call' });
    assert.equal(psp.calls.length, 2, 'the PSP charged the card');
    assert.equal(r.body?.result?.code, '900.100.300', `answered ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(typeof r.body?.id, 'string');
    await psp.back;
    // Back: the payment the merchant was told is in doubt is found, and the reconciler settles it as the PSP has it.
    const deadline = Date.now() + 20_000;
    let status: string | undefined;
    while (Date.now() < deadline) {
      await gw.app.payments.reconcile().catch(() => 0);
      status = (await gw.app.payments.details(r.body.id).catch(() => undefined))?.payment.status;
      if (status === 'captured') break;
      await new Promise((res) => setTimeout(res, 250));
    }
    assert.equal(status, 'captured', 'settled as the PSP approved it');
  } finally {
    await psp.back;
    await gw.close();
    await psp.close();
  }
});
