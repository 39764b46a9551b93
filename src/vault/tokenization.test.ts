import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import { getHeapSnapshot } from 'node:v8';
import { createTokenizationKeys, keepExpiredMs } from './tokenization.ts';
import type { TokenizationKeyStore } from './store.ts';

type Row = Parameters<TokenizationKeyStore['insertKey']>[0];

/** How many objects of a constructor the heap holds (a heap snapshot forces a full collection first). */
async function liveCount(constructorName: string): Promise<number> {
  let text = '';
  for await (const chunk of getHeapSnapshot()) text += chunk;
  const s = JSON.parse(text);
  const fields: string[] = s.snapshot.meta.node_fields;
  const name = fields.indexOf('name');
  const type = fields.indexOf('type');
  const objectType = (s.snapshot.meta.node_types[0] as string[]).indexOf('object');
  let n = 0;
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    if (s.nodes[i + type] === objectType && s.strings[s.nodes[i + name]] === constructorName) n++;
  }
  return n;
}

/** The tokenization keys' table, in memory: what every node of a cluster reads and writes. */
function keyTable(): { rows: Row[]; store: TokenizationKeyStore } {
  const rows: Row[] = [];
  return {
    rows,
    store: {
      async insertKey(k) { rows.push(k); },
      async key(id) { return rows.find((r) => r.id === id); },
      async freshestKey(merchantId) { return rows.filter((r) => r.merchantId === merchantId).sort((a, b) => b.expiresAt - a.expiresAt)[0]; },
      async purgeExpired(before) {
        const kept = rows.filter((r) => r.expiresAt >= before);
        const purged = rows.length - kept.length;
        rows.splice(0, rows.length, ...kept);
        return purged;
      },
    },
  };
}

test('a tokenization key\'s private key is not kept in memory after the key has expired', async () => {
  const { rows, store } = keyTable();
  let now = Date.UTC(2026, 0, 1);
  const lifetime = 24 * 3600_000;
  const keys = createTokenizationKeys({ store, sealingKey: randomBytes(32), clock: { now: () => now }, lifetimeMs: lifetime });
  const baseline = await liveCount('PrivateKeyObject');
  // A merchant's checkout page asks for its key over 15 days of uptime: a new key every half lifetime.
  for (let half = 0; half < 30; half++) {
    await keys.current('m1');
    now += lifetime / 2 + 1;
  }
  assert.equal(rows.length, 30);
  // At most the keys still valid (two: the current one and the one before it) need their private half.
  const kept = (await liveCount('PrivateKeyObject')) - baseline;
  assert.ok(kept <= 2, `${kept} RSA private keys held in the process for 30 keys, 28 of them expired`);
});

test('a node that only opens keys (another node made them) lets expired private keys leave memory too', async () => {
  const { rows, store } = keyTable();
  let now = Date.UTC(2026, 0, 1);
  const lifetime = 24 * 3600_000;
  const sealingKey = randomBytes(32);
  const clock = { now: () => now };
  const nodeA = createTokenizationKeys({ store, sealingKey, clock, lifetimeMs: lifetime }); // serves client/init
  const nodeB = createTokenizationKeys({ store, sealingKey, clock, lifetimeMs: lifetime }); // serves tokenize
  const baseline = await liveCount('PrivateKeyObject');
  for (let half = 0; half < 30; half++) {
    const k = await nodeA.current('m1');
    const jwe = await new CompactEncrypt(new TextEncoder().encode('{"x":1}'))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' })
      .encrypt(createPublicKey({ key: Buffer.from(k.publicKey, 'base64'), format: 'der', type: 'spki' }));
    assert.equal((await nodeB.decrypt('m1', k.id, jwe)).ok, true);
    now += lifetime / 2 + 1;
  }
  const kept = (await liveCount('PrivateKeyObject')) - baseline;
  // Node A keeps at most 2; node B should too (4 in all).
  assert.ok(kept <= 4, `${kept} RSA private keys held across the two nodes for 30 keys, 28 of them expired`);
});

test('keys that expired more than a week ago are deleted; what they encrypted is refused, as unknown once deleted and as expired before', async () => {
  const { rows, store } = keyTable();
  let now = Date.UTC(2026, 0, 1);
  const lifetime = 24 * 3600_000;
  const keys = createTokenizationKeys({ store, sealingKey: randomBytes(32), clock: { now: () => now }, lifetimeMs: lifetime });
  const encrypt = async (k: { publicKey: string }) => new CompactEncrypt(new TextEncoder().encode('{"x":1}'))
    .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256CBC-HS512' })
    .encrypt(createPublicKey({ key: Buffer.from(k.publicKey, 'base64'), format: 'der', type: 'spki' }));
  const first = await keys.current('m1');
  const old = await encrypt(first);
  // Thirty days of a merchant's page asking for its key: a new one every half lifetime.
  for (let half = 0; half < 60; half++) { await keys.current('m1'); now += lifetime / 2 + 1; }
  const before = rows.length;
  const purged = await keys.purgeExpired();
  assert.ok(purged > 0 && rows.length < before);
  assert.ok(rows.every((r) => r.expiresAt >= now - keepExpiredMs), 'every key left expired within the week');
  assert.ok(rows.length <= 2 * (keepExpiredMs / lifetime) + 3, `${rows.length} keys kept`);
  assert.deepEqual(await keys.decrypt('m1', first.id, old), { ok: false, reason: 'unknown_key' });
  const recent = rows.filter((r) => r.expiresAt < now).at(-1)!;
  assert.deepEqual(await keys.decrypt('m1', recent.id, await encrypt(recent)), { ok: false, reason: 'expired_key' });
  const current = await keys.current('m1');
  assert.equal((await keys.decrypt('m1', current.id, await encrypt(current))).ok, true);
});
