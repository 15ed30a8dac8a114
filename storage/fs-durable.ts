/**
 * Durable file writes: a final name only ever holds completely written bytes, and the caller
 * is told a file is written only once its content and its directory entry are on disk.
 */
import { closeSync, fdatasync, fsync, openSync, renameSync, rmSync, writeSync, writev } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { SyncGroup } from './sync-group.js';

/** Prefix of temporary files; anything carrying it is an unfinished write. */
export const TEMP_PREFIX = '.tmp-';

/** Flushes a directory's entries (new, renamed or removed files) to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const found = await flushPath(dir, 'all');
  if (!found) throw Object.assign(new Error(`ENOENT: no such directory, fsync '${dir}'`), { code: 'ENOENT', path: dir });
}

/**
 * fsync (`all`) or fdatasync (`data`) of an existing file or directory; false when it does not
 * exist. The open and close are quick calls made in place; only the flush goes to the libuv
 * pool, so a flush costs one trip there instead of three.
 */
export async function flushPath(path: string, what: 'all' | 'data'): Promise<boolean> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    await new Promise<void>((resolve, reject) => (what === 'all' ? fsync : fdatasync)(fd, (err) => (err ? reject(err) : resolve())));
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Creates `dir` (and missing parents) and makes the new entries durable by syncing each
 * parent that gained one.
 */
export async function ensureDirDurable(dir: string, mode = 0o700): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode });
  if (first === undefined) return;
  // mkdir returns the first directory it created; every parent from there up gained an entry.
  let created = dir;
  for (;;) {
    await fsyncDir(dirname(created));
    if (created === first) break;
    created = dirname(created);
  }
}

/** Directory fsyncs shared by concurrent writers of the same directory (group commit per directory). */
export class DirectorySyncs {
  private readonly groups = new Map<string, SyncGroup>();

  /** Resolves once an fsync of `dir` that started after this call has completed. */
  async sync(dir: string): Promise<void> {
    let group = this.groups.get(dir);
    if (!group) {
      group = new SyncGroup(() => fsyncDir(dir));
      this.groups.set(dir, group);
    }
    try {
      await group.sync();
    } finally {
      if (group.idle && this.groups.get(dir) === group) this.groups.delete(dir);
    }
  }
}

/**
 * Writes a new file that a caller publishes only afterwards (a database row that points to it).
 * The bytes go to a temporary file, which takes its final name as soon as they are written; the
 * call resolves once content and name are on disk: an fdatasync of the file and an fsync of the
 * directory (shared with concurrent writers) run together on the libuv pool, one journal commit
 * where temp-fsync-rename-fsync needs two in a row. Creating and renaming are quick calls made
 * in place (on a small machine a trip to the pool costs more than the call itself); the copy of
 * the bytes into the page cache and the flushes go to the pool. A process crash leaves at most a temporary file (a final name is given
 * only to completely written bytes); a power loss before the flushes end may leave the final
 * name incomplete, but nothing points to it (the caller publishes after this resolves), and the
 * orphan sweep removes it.
 */
export async function writeNewFileDurable(path: string, chunks: readonly Uint8Array[], directories: DirectorySyncs, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(temp, 'wx', mode);
  let named = false;
  try {
    try {
      await writeAll(fd, chunks);
      renameSync(temp, path);
      named = true;
      // Both flushes are needed before the caller may publish; wait for both even when one fails.
      const [data, entry] = await Promise.allSettled([new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve()))), directories.sync(dir)]);
      if (data.status === 'rejected') throw data.reason;
      if (entry.status === 'rejected') throw entry.reason;
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    rmSync(named ? path : temp, { force: true });
    throw err;
  }
}

/** Writes every chunk at the file's current position: one writev on the libuv pool (the copy into the page cache is the slow part), then whatever a short write left. */
async function writeAll(fd: number, chunks: readonly Uint8Array[]): Promise<void> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  let written = await new Promise<number>((resolve, reject) => writev(fd, chunks as Uint8Array[], (err, n) => (err ? reject(err) : resolve(n))));
  for (const chunk of chunks) {
    if (written >= total) break;
    const skip = Math.min(written, chunk.length);
    written -= skip;
    for (let off = skip; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
  }
}
