import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterKey } from './keyring.ts';

test('a master key made on first start is flushed to disk before anything is sealed under it, owner-only, and read back the same', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-keyring-'));
  const fsync = mock.method(fs, 'fsyncSync');
  syncBuiltinESMExports();
  try {
    const made = loadMasterKey({ configured: undefined, dataDir });
    assert.ok(!existsSync(join(dataDir, 'master.key')), 'nothing is written before anything is sealed under it');
    made.keep();
    assert.ok(fsync.mock.callCount() > 0, 'a power cut after the first key version commits must not find the master key missing');
    assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
    const read = loadMasterKey({ configured: undefined, dataDir });
    assert.deepEqual(read.key, made.key);
    read.keep();
    assert.deepEqual(loadMasterKey({ configured: undefined, dataDir }).key, made.key, 'keeping a stored key changes nothing');
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
