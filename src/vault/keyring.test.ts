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

test('two nodes sealing the first key version at once: the one that lost the race leaves no master key file of its own', async () => {
  const { createVaultService } = await import('./service.ts');
  const { MasterKeyMismatchError } = await import('./errors.ts');
  const { seal } = await import('../runtime/crypto.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-keyring-'));
  try {
    const otherNodesKey = loadMasterKey({ configured: 'ab'.repeat(32), dataDir });
    const stored: { version: number; sealedKey: string }[] = [];
    let asked = 0;
    // The store as this node sees it: empty when first read, then the other node's version wins the insert.
    const store = {
      async keyVersions() { return asked++ === 0 ? [] : stored; },
      async addKeyVersion() {
        stored.push({ version: 1, sealedKey: seal(otherNodesKey.key, Buffer.alloc(32, 7), 'kek:1') });
        return false;
      },
      async legacyFingerprints() { return []; },
    };
    const deps = { store: store as never, clock: { now: () => 0 }, ids: {} as never, masterKey: loadMasterKey({ configured: undefined, dataDir }) };
    await assert.rejects(createVaultService(deps), MasterKeyMismatchError);
    assert.ok(!existsSync(join(dataDir, 'master.key')), 'a master.key sealing nothing is left, to be taken for the store\'s key on every later start');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
