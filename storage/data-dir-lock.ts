/**
 * One serving process per data directory on embedded SQLite. At start the gateway repairs what an
 * unclean stop left and sweeps orphan files as if it alone wrote the directory; a second
 * `limen start` on it would take a running gateway's files in flight for leftovers. The lock is
 * SQLite's own file lock (POSIX advisory): the kernel releases it when its process ends, however
 * it ends, so a crash never leaves a stale lock behind. One-shot commands (`token create`...) do
 * not take it: they share the database as SQLite allows.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { StorageError } from './errors.js';

export const DATA_DIR_LOCK_FILE = 'limen.lock';

/** The part of better-sqlite3 (which ships no types) the lock uses. */
interface LockConnection {
  pragma(source: string): unknown;
  exec(source: string): void;
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (file: string, options: { timeout: number }) => LockConnection;

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** Takes the data directory's lock, or fails with `data-dir-locked` when another process holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  let db: LockConnection;
  try {
    db = new Database(path, { timeout: 0 });
  } catch (err) {
    // better-sqlite3 names no file ("Cannot open database because the directory does not exist").
    throw new Error(`cannot open the lock file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    // An exclusive transaction in exclusive locking mode holds the file's write lock until the
    // connection closes; the journal in memory leaves no file beside it.
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StorageError('data-dir-locked', `another limen start is serving the data directory ${dataDir} (it holds ${path}); one process serves a directory on embedded SQLite`, { path, cause: err });
    }
    throw err;
  }
  return { path, release: () => db.close() };
}
