import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';

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
 * Creates `file` empty if missing, then makes it and any of `siblings` that exist owner-only.
 * SQLite gives its -wal and -shm files the main database file's mode, so the database file is
 * created here, owner-only, before SQLite opens it.
 */
export function restrictFiles(file: string, siblings: readonly string[] = []): void {
  closeSync(openSync(file, 'a', privateFileMode));
  chmodSync(file, privateFileMode);
  for (const s of siblings) if (existsSync(s)) chmodSync(s, privateFileMode);
}
