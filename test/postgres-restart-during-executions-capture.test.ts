/**
 * An executions capture the PSP made while PostgreSQL restarted is acknowledged as any capture is
 * (202, its action recorded with its operation), from the execution as read before when it cannot
 * be read again; it was answered 500 with the database's address in the message (the error
 * handler's own release of the idempotency key failed too, and Fastify's default answer leaked).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postgresAvailable, startGateway } from './support/harness.ts';
import { acquirerRestartingPostgres } from './support/postgres-proxy.ts';
import { authorizedExecution, call, tokenOf, wf } from './support/executions.ts';

const skip = (await postgresAvailable()) ? undefined : 'PostgreSQL unreachable';

test('an executions capture the PSP made while PostgreSQL restarted is not answered as a server error', { skip }, async () => {
  const psp = await acquirerRestartingPostgres(3000);
  const gw = await startGateway({ store: 'postgres', processor: psp.acquirer, env: { DATABASE_URL: psp.url, SWITCHYARD_PSP_TIMEOUT_MS: '500', SWITCHYARD_LONG_POLL_MS: '1000' } });
  try {
    const token = await tokenOf(gw);
    const { id } = await authorizedExecution(gw, token, 'restart-capture', '4111111111111111', '20.00');
    psp.arm('capture');
    const r = await call(gw, 'POST', `${wf}/${id}/capture`, { token, body: { amount: { value: '20.00', currency: 'EUR' }, final: true } });
    assert.equal(psp.calls.filter((c) => c.operation === 'capture').length, 1, 'the PSP captured');
    assert.equal(r.status, 202, `a capture the PSP made is answered ${r.status} ${JSON.stringify(r.body)}`);
    assert.doesNotMatch(JSON.stringify(r.body), /ECONNREFUSED/);
  } finally {
    await psp.back;
    await gw.close();
    await psp.close();
  }
});
