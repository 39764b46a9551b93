/**
 * Two nodes, one idempotency key: node A's request claims it and then fails (a 5xx, so it releases
 * the key) while node B's retry of the same request is between its INSERT (which found A's row)
 * and its SELECT of that row. B must proceed (the key is free) or be told 409, never throw (a 500).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import type { Storage } from '../src/storage/database.ts';
import { createIdempotencyStore } from '../src/idempotency/kysely-store.ts';
import { createIdempotency } from '../src/idempotency/service.ts';
import type { UnitOfWork } from '../src/storage/unit-of-work.ts';
import { postgresAvailable } from './support/harness.ts';
import { twoNodesOnOneSchema } from './support/stores.ts';

const skip = (await postgresAvailable()) ? undefined : 'no PostgreSQL';

describe('idempotency claim racing a release on another node (PostgreSQL)', { skip }, () => {
  let a: Storage;
  let b: Storage;
  let nodes: Awaited<ReturnType<typeof twoNodesOnOneSchema>> | undefined;
  before(async () => { nodes = await twoNodesOnOneSchema('sy_idrelease'); ({ a, b } = nodes); });
  after(async () => { await nodes?.close(); });

  test('a key released by node A between node B\'s insert and its read: B proceeds or gets 409, it does not throw', async () => {
    const key = randomBytes(32);
    const clock = { now: () => Date.now() };
    const nodeA = createIdempotency({ store: createIdempotencyStore(a.uow), clock, key });
    const merchantId = randomBytes(16).toString('hex');
    const idemKey = randomUUID();
    const request = { amount: { value: 1000, currency: 'EUR' } };

    const first = await nodeA.admit(merchantId, idemKey, 'authorize', request);
    assert.equal(first.kind, 'proceed');

    // Node B's connection: right after its INSERT ... ON CONFLICT DO NOTHING answers, node A's
    // request fails and releases its claim (what A's onSend hook does on a 5xx).
    let armed = true;
    const interleave: KyselyPlugin = {
      transformQuery: (args) => args.node,
      async transformResult(args) {
        if (armed && args.result.numAffectedRows !== undefined) {
          armed = false;
          if (first.kind === 'proceed') await nodeA.release(first.claim);
        }
        return args.result;
      },
    };
    const nodeB = createIdempotency({ store: createIdempotencyStore({ db: b.db.withPlugin(interleave) } as unknown as UnitOfWork), clock, key });
    let admitted;
    try {
      admitted = await nodeB.admit(merchantId, idemKey, 'authorize', request);
    } catch (err) {
      assert.fail(`node B's admission threw (the request would answer 500): ${String(err)}`);
    }
    assert.ok(admitted.kind === 'proceed' || (admitted.kind === 'conflict' && admitted.reason === 'in_flight'), JSON.stringify(admitted));
  });
});
