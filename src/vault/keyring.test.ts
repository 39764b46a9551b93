import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMasterKey } from './keyring.ts';

test('a master key made on first start is flushed to disk before anything is sealed under it, owner-only, and read back the same', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-keyring-'));
  const fsync = mock.method(fs, 'fsyncSync');
  syncBuiltinESMExports();
  try {
    const key = loadMasterKey({ configured: undefined, dataDir });
    assert.ok(fsync.mock.callCount() > 0, 'a power cut after the first key version commits must not find the master key missing');
    assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
    assert.deepEqual(loadMasterKey({ configured: undefined, dataDir }), key);
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
