/**
 * The embedded store's write-ahead log tampered with under a serving gateway (a cleanup that took
 * the `-wal` file for a temporary one). Deleted: the gateway's connection still held it, whole; the
 * next flush found it gone and the process ended, and the restart found the store as of its last
 * checkpoint, on a quiet gateway an empty one, started afresh over it with a new demo merchant:
 * every acknowledged payment lost. Now its commits are copied into the database file before the
 * process ends. Cut short: payments were still acknowledged on it, and the closing checkpoint wrote
 * zeroes over the database (it no longer opened). Now nothing more is acknowledged and nothing is
 * copied. And a folder holding a master key but no store refuses to start a new one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, truncateSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { opp, pay, tempDir } from './support/harness.ts';
import { demoCredentials, runCli, startGatewayProcess, type GatewayProcess } from './support/process.ts';

/** A gateway with a few acknowledged payments, all still only in the WAL (a quiet gateway checkpoints at a thousand frames). */
async function servingWithPayments() {
  const dataDir = join(tempDir(), 'data');
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0' });
  const gw = { url: proc.url, merchant: demoCredentials(dataDir, proc.output()) };
  const acked: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await pay(gw, { merchantTransactionId: `pre-${i}` });
    assert.equal(r.body.result.code, '000.100.110');
    acked.push(r.body.id as string);
  }
  return { proc, dataDir, gw, acked };
}

test('the WAL deleted under a serving gateway: nothing more is acknowledged, and after a restart every payment acknowledged before is there', async () => {
  const { proc, dataDir, gw, acked } = await servingWithPayments();
  let again: GatewayProcess | undefined;
  try {
    rmSync(join(dataDir, 'switchyard.sqlite-wal'));
    const after = await pay(gw, { merchantTransactionId: 'after-deletion' }).catch(() => undefined);
    assert.ok(!String(after?.body.result?.code).startsWith('000.'), `not acknowledged: ${JSON.stringify(after?.body)}`);
    await proc.stop('SIGTERM').catch(() => {});
    assert.match(proc.output(), /write-ahead log was deleted under the store: its commits were copied/);
    again = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0' });
    const merchant = demoCredentials(dataDir, again.output());
    assert.deepEqual([merchant.entityId, merchant.accessToken], [gw.merchant.entityId, gw.merchant.accessToken], 'the same demo merchant, not a new one');
    for (const id of acked) assert.equal((await opp({ url: again.url, merchant }, 'GET', `/v1/payments/${id}`)).status, 200, id);
    await again.stop();
    const verify = runCli(dataDir, 'ledger', 'verify');
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  } finally {
    await proc.stop('SIGKILL').catch(() => {});
    await again?.stop('SIGKILL').catch(() => {});
  }
});

test('the WAL cut short under a serving gateway: nothing more is acknowledged, and the store as of its last checkpoint still opens and verifies', async () => {
  const first = await servingWithPayments();
  // A clean stop copies everything into the database file; what the WAL holds after it is one payment.
  await first.proc.stop();
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: first.dataDir, SWITCHYARD_DEMO_PORT: '0' });
  let again: GatewayProcess | undefined;
  try {
    const gw = { url: proc.url, merchant: first.gw.merchant };
    assert.equal((await pay(gw, { merchantTransactionId: 'in-the-wal' })).body.result.code, '000.100.110');
    truncateSync(join(first.dataDir, 'switchyard.sqlite-wal'), 0);
    const after = await pay(gw, { merchantTransactionId: 'after-truncation' }).catch(() => undefined);
    assert.ok(!String(after?.body.result?.code).startsWith('000.'), `not acknowledged: ${JSON.stringify(after?.body)}`);
    await proc.stop('SIGTERM').catch(() => {});
    const verify = runCli(first.dataDir, 'ledger', 'verify');
    assert.equal(verify.status, 0, `the store is readable, its books whole: ${verify.stdout}${verify.stderr}`);
    again = await startGatewayProcess({ SWITCHYARD_DATA_DIR: first.dataDir, SWITCHYARD_DEMO_PORT: '0' });
    for (const id of first.acked) assert.equal((await opp({ url: again.url, merchant: gw.merchant }, 'GET', `/v1/payments/${id}`)).status, 200, id);
  } finally {
    await proc.stop('SIGKILL').catch(() => {});
    await again?.stop('SIGKILL').catch(() => {});
  }
});

test('a folder holding a master key but no store (or an empty one) refuses to start a new store over it, saying so', async () => {
  const { proc, dataDir } = await servingWithPayments();
  await proc.stop();
  for (const f of ['switchyard.sqlite', 'switchyard.sqlite-wal', 'switchyard.sqlite-shm']) rmSync(join(dataDir, f), { force: true });
  await assert.rejects(startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir, SWITCHYARD_DEMO_PORT: '0' }), /holds a master key but no store/);
  const cli = runCli(dataDir, 'merchants', 'list');
  assert.notEqual(cli.status, 0);
  assert.match(cli.stderr, /holds a master key but no store.*restore/);
});

test('another program\'s TRUNCATE checkpoint (the sqlite3 shell, a replication tool) on a serving gateway\'s store is not taken for tampering', async () => {
  const { proc, dataDir, gw, acked } = await servingWithPayments();
  try {
    const other = new DatabaseSync(join(dataDir, 'switchyard.sqlite'));
    other.exec('PRAGMA busy_timeout = 2000');
    // A read of the gateway's own may hold it back for a moment: tried again until it cut the WAL.
    let busy = 1;
    for (let i = 0; i < 20 && busy !== 0; i++) {
      busy = (other.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number }).busy;
      if (busy !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    other.close();
    assert.equal(busy, 0, 'the checkpoint cut the WAL');
    for (let i = 0; i < 3; i++) assert.equal((await pay(gw, { merchantTransactionId: `after-truncate-checkpoint-${i}` }).catch((e) => { throw new Error(proc.output().split('\n').filter((l) => !l.startsWith('{')).join('\n'), { cause: e }); })).body.result.code, '000.100.110');
    for (const id of acked) assert.equal((await opp(gw, 'GET', `/v1/payments/${id}`)).status, 200, id);
    assert.doesNotMatch(proc.output(), /fatal/);
  } finally {
    await proc.stop().catch(() => {});
  }
});

test('another program\'s TRUNCATE checkpoints, back to back, on the store of a gateway under load: every payment is acknowledged, nothing is taken for tampering', async () => {
  const { proc, dataDir, gw } = await servingWithPayments();
  try {
    let stop = false;
    let paid = 0;
    const failures: string[] = [];
    const clients = Array.from({ length: 24 }, async (_, c) => {
      for (let i = 0; !stop; i++) {
        const r = await pay(gw, { merchantTransactionId: `load-${c}-${i}` }).catch((e: unknown) => ({ body: { result: { code: String(e) } } }));
        const code = String(r.body.result?.code);
        if (code === '000.100.110') paid++;
        else { failures.push(code); stop = true; }
      }
    });
    const other = new DatabaseSync(join(dataDir, 'switchyard.sqlite'));
    other.exec('PRAGMA busy_timeout = 50');
    let cuts = 0;
    for (const until = Date.now() + 12_000; Date.now() < until && !stop;) {
      try { if ((other.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number }).busy === 0) cuts++; } catch { /* busy */ }
      await new Promise((r) => setImmediate(r));
    }
    stop = true;
    await Promise.all(clients);
    other.close();
    assert.deepEqual(failures.slice(0, 3), [], `after ${paid} payments and ${cuts} checkpoints:\n${proc.output().split('\n').filter((l) => /fatal/.test(l)).join('\n')}`);
    assert.ok(cuts > 10 && paid > 10, `${cuts} checkpoints, ${paid} payments`);
    assert.doesNotMatch(proc.output(), /fatal/);
  } finally {
    await proc.stop().catch(() => {});
  }
});
