/**
 * A payment answered as approved is in the store even when the process is killed the instant the
 * answer leaves: the answer is sent only after its unit of work committed (and its WAL flushed).
 * The chaos suite kills at random moments as well as right after an approval; this is the short form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '../src/storage/sqlite.ts';
import { opp, tempDir, testCard } from './support/harness.ts';
import { demoCredentials, startGatewayProcess } from './support/process.ts';

test('kill -9 the instant an approval is answered: every payment answered approved is in the store, settled', async () => {
  const dataDir = tempDir();
  const proc = await startGatewayProcess({ SWITCHYARD_DATA_DIR: dataDir });
  try {
    const gw = { url: proc.url, merchant: demoCredentials(dataDir) };
    // Several at once, so the answers come out of group-committed batches; the kill follows the first answer.
    const answers = Array.from({ length: 8 }, (_, i) => opp(gw, 'POST', '/v1/payments', { amount: `${12 + i}.00`, currency: 'EUR', paymentType: 'DB', ...testCard }).catch(() => undefined));
    const first = await Promise.race(answers);
    await proc.stop('SIGKILL');
    const approved = (await Promise.all(answers)).filter((a) => a?.body?.result?.code === '000.100.110').map((a) => a!.body.id as string);
    assert.ok(first?.body?.result?.code === '000.100.110' && approved.length >= 1, 'at least the first payment was answered approved');
    const { db } = openSqlite(join(dataDir, 'switchyard.sqlite'));
    try {
      for (const id of approved) {
        const rows = await db.selectFrom('transactions').select(['status']).where('id', '=', id).execute();
        assert.deepEqual(rows.map((r) => r.status), ['succeeded'], `payment ${id} was answered approved and is not in the store`);
      }
    } finally { await db.destroy(); }
  } finally {
    await proc.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
