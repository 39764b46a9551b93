import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { diskHasRoom } from './disk-room.ts';

test('a disk with room passes; one with less free than asked is reported full, naming the folder and what is left', async () => {
  await diskHasRoom(tmpdir(), 1);
  await assert.rejects(diskHasRoom(tmpdir(), Number.MAX_SAFE_INTEGER), (err: Error) => err.message.includes(tmpdir()) && /is full: [0-9]+ bytes free/.test(err.message));
  await assert.rejects(diskHasRoom('/no/such/folder'), /ENOENT/);
});
