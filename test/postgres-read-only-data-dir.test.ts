/**
 * A PostgreSQL node given SWITCHYARD_MASTER_KEY and SWITCHYARD_ADMIN_TOKEN (the README's several
 * gateway processes on one database) writes nothing to its data folder once the demo merchant
 * exists, and serves with that folder on a read-only filesystem (a container's read-only root). The
 * data folder made owner-only at every start refused it (EROFS); it is a best effort there now.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresAvailable } from './support/harness.ts';
import { startGatewayProcess } from './support/process.ts';
import { processStore } from './support/stores.ts';

const skip = !(await postgresAvailable()) ? 'PostgreSQL is not reachable' : process.getuid?.() !== 0 ? 'mounting a read-only tmpfs needs root' : false;

test('a PostgreSQL node whose data folder is on a read-only filesystem starts and is ready', { skip }, async (t) => {
  const store = await processStore('postgres');
  const secrets = { ...store.env, SWITCHYARD_MASTER_KEY: 'ab'.repeat(32), SWITCHYARD_ADMIN_TOKEN: `op-${'x'.repeat(40)}` };
  const readOnly = mkdtempSync(join(tmpdir(), 'switchyard-ro-'));
  let mounted = false;
  try {
    // The first node makes the demo merchant (its credentials go to its own folder).
    await (await startGatewayProcess(secrets)).stop();
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly]).status !== 0) return t.skip('mounting a tmpfs is not permitted here');
    mounted = true;
    const node = await startGatewayProcess({ ...secrets, SWITCHYARD_DATA_DIR: readOnly });
    try {
      assert.equal((await fetch(`${node.url}/ready`)).status, 200);
      assert.match(node.output(), /could not be made owner-only \(EROFS\)/);
    } finally {
      await node.stop();
    }
  } finally {
    if (mounted) spawnSync('umount', [readOnly]);
    rmSync(readOnly, { recursive: true, force: true });
    await store.drop();
  }
});
