/**
 * Two rotations of one executions endpoint's secret at the same moment (two operators, a resent
 * dashboard form, the admin API on two nodes). Each caller is told "this is the new secret"; a
 * receiver configured with either must be able to verify what the gateway then sends during the
 * overlap. The second rotation's "old secret" must be the first one's new secret, not the secret
 * both read before either wrote: otherwise one of the two secrets handed out never signs anything.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { manualClock } from '../src/runtime/clock.ts';
import { addOutboxEvent } from '../src/webhooks/outbox.ts';
import { postgresAvailable, startGateway } from './support/harness.ts';
import { closeServer, freePort, listen, loopbackAllow, recordRequests } from './support/webhooks.ts';
import { createServer } from 'node:http';

const b64hmac = (secret: string, data: string) => createHmac('sha256', Buffer.from(secret, 'utf8')).update(data, 'utf8').digest('base64');
const pgUp = await postgresAvailable();

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`concurrent webhook secret rotations (${store})`, { skip: store === 'postgres' && !pgUp ? 'no PostgreSQL' : undefined }, () => {
    test('both secrets handed out by two simultaneous rotations sign the next delivery', async () => {
      const clock = manualClock();
      const gw = await startGateway({ clock, store, env: { SWITCHYARD_WEBHOOK_ALLOW: loopbackAllow } });
      const port = await freePort();
      const receiver = createServer((_req, res) => { res.statusCode = 200; res.end('ok'); });
      const raw = recordRequests(receiver);
      await listen(receiver, port);
      try {
        const added = await gw.app.webhooks.addEndpoint({ merchantId: gw.merchant.merchantId, dialect: 'executions', url: `http://127.0.0.1:${port}/` } as never) as any;
        assert.equal(added.ok, true, JSON.stringify(added));
        const endpointId = added.value.endpointId;
        const [r1, r2] = await Promise.all([gw.app.webhooks.rotateSecret(endpointId, 3_600_000), gw.app.webhooks.rotateSecret(endpointId, 3_600_000)]);
        assert.ok(r1.ok && r2.ok);
        const handedOut = [r1.value.secret, r2.value.secret];

        const id = randomBytes(16).toString('hex');
        await addOutboxEvent(gw.app.storage.db, {
          id, merchantId: gw.merchant.merchantId, type: 'execution.executionActionCompleted', subjectId: randomBytes(16).toString('hex'), createdAt: clock.now(),
          payload: { event: 'executionActionCompleted', workspaceId: gw.merchant.workspaceId },
        });
        await gw.app.webhooks.runOnce();
        const r = raw.at(-1);
        assert.ok(r, 'the event was delivered');
        const signedWith = [r.headers['x-signature'], r.headers['x-signature-previous']];
        const unused = handedOut.filter((s) => !signedWith.includes(b64hmac(s, r.body)));
        assert.deepEqual(unused.length, 0, 'a secret handed out by a rotation signs nothing: a receiver configured with it refuses every delivery');
      } finally {
        await closeServer(receiver);
        await gw.close();
      }
    });
  });
}
