import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDurablePrivateFile } from './private-files.ts';

test('a durable private file is flushed (file and folder), owner-only, never over an existing one, and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-durable-'));
  const fsync = mock.method(fs, 'fsyncSync');
  syncBuiltinESMExports();
  try {
    const file = join(dir, 'master.key');
    writeDurablePrivateFile(file, 'first\n');
    assert.ok(fsync.mock.callCount() >= 2, 'the file and its folder are flushed');
    assert.equal(readFileSync(file, 'utf8'), 'first\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.throws(() => writeDurablePrivateFile(file, 'second\n'), /EEXIST/);
    assert.equal(readFileSync(file, 'utf8'), 'first\n', 'the existing file is kept');
    assert.deepEqual(readdirSync(dir), ['master.key']);
  } finally {
    mock.restoreAll();
    syncBuiltinESMExports();
    rmSync(dir, { recursive: true, force: true });
  }
});
