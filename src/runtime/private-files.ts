import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The data folder and the files in it (the database and its journals, the master key, the admin
 * token, the demo credentials) belong to the gateway's user alone. Modes are set with chmod after
 * creation as well, because the creation mode only ever loses bits to the umask and a file or
 * folder left by an older version or another tool keeps whatever mode it had.
 */
export const privateDirMode = 0o700;
export const privateFileMode = 0o600;

/** Creates `dir` (and missing parents) and makes it owner-only. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: privateDirMode });
  chmodSync(dir, privateDirMode);
}

/** Writes a new file only its owner can read (`flag: 'wx'` refuses to overwrite). */
export function writePrivateFile(file: string, content: string, flag: 'w' | 'wx' = 'w'): void {
  writeFileSync(file, content, { mode: privateFileMode, flag });
  chmodSync(file, privateFileMode);
}

/**
 * Writes a new file only its owner can read, durably, whole or not at all, and never over an
 * existing one: written and flushed under a temporary name, linked into place (which fails if the
 * name is taken), and the folder flushed. For what later data depends on (the master key, under
 * which the first key version is sealed and committed at once): without the flushes a power cut in
 * the first seconds could leave an empty or missing key beside a database that needs it.
 */
export function writeDurablePrivateFile(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temporary, 'wx', privateFileMode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(temporary, privateFileMode);
    linkSync(temporary, file);
  } finally {
    unlinkSync(temporary);
  }
  const dir = openSync(dirname(file), 'r');
  try { fsyncSync(dir); } finally { closeSync(dir); }
}

/**
 * Creates `file` empty if missing, then makes it and any of `siblings` that exist owner-only.
 * SQLite gives its -wal and -shm files the main database file's mode, so the database file is
 * created here, owner-only, before SQLite opens it.
 */
export function restrictFiles(file: string, siblings: readonly string[] = []): void {
  closeSync(openSync(file, 'a', privateFileMode));
  chmodSync(file, privateFileMode);
  for (const s of siblings) if (existsSync(s)) chmodSync(s, privateFileMode);
}
