import { statfs } from 'node:fs/promises';

/**
 * Below this much free space the embedded store is taken for full: a commit needs a few pages of
 * WAL, a checkpoint more, and SQLite says SQLITE_FULL only once a write has already failed.
 */
export const minFreeBytes = 1024 * 1024;

/** Throws, saying how much is left, when the filesystem holding `dir` has less than `minFreeBytes` free for this process. */
export async function diskHasRoom(dir: string, min = minFreeBytes): Promise<void> {
  const s = await statfs(dir, { bigint: true });
  // Root may write into the blocks the filesystem keeps back for it, as a gateway run as root does.
  const free = (process.getuid?.() === 0 ? s.bfree : s.bavail) * s.bsize;
  if (free < BigInt(min)) throw new Error(`the disk holding ${dir} is full: ${free} bytes free, at least ${min} needed`);
}
