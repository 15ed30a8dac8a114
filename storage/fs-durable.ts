/**
 * Durable file writes: a final name only ever holds completely written bytes, and the caller
 * is told a file is written only once its content and its directory entry are on disk.
 */
import { close, closeSync, constants, fdatasync, fsync, open, openSync, renameSync, rmSync, unlink, writeSync, writev, writevSync } from 'node:fs';
import { mkdir, open as openHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pooledRandomBytes } from './crypto/random.js';
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
 * parent that gained one. With `syncParent`, `dir`'s own parent is synced even when `dir` was
 * already there: another writer may have created it a moment ago and not yet synced it, or a
 * crash may have come between a creation and its sync.
 */
/**
 * Creates an empty file only its owner may read, unless it exists. For the SQLite database: made
 * by the driver, it would take the umask's mode (0644 in a data dir that already existed, open to
 * every local user), and SQLite gives its -wal and -shm files the database file's mode.
 */
export async function createOwnerOnly(path: string): Promise<void> {
  try {
    await (await openHandle(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

export async function ensureDirDurable(dir: string, mode = 0o700, options: { syncParent?: boolean } = {}): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode });
  if (first === undefined) {
    if (options.syncParent) await fsyncDir(dirname(dir));
    return;
  }
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

/** An open, empty temporary file. */
export interface TempFile {
  path: string;
  fd: number;
  createdAt: number;
}

/** Spares older than this are not used: another process's sweep may judge them leftovers. */
const SPARE_MAX_AGE_MS = 60_000;
/** Directories that keep a spare at once (the studies being received). */
const SPARE_DIRECTORIES = 8;

/**
 * Temporary files created ahead of need, on the libuv pool. Creating a file allocates an inode
 * under the directory's lock: on a journaled ext4 it waits while the journal commits (durable
 * writes make it commit often); on a journal-less one it scans past every inode freed in the last
 * minute or more (after a study is erased, hundreds). Made in place on the critical path, the
 * open stalled the event loop more than any other call. Each write takes the directory's spare
 * (waiting for it if it is still being created) and starts the next one, so a write usually
 * starts with an open file. Unused spares are removed on `close`, and by the orphan sweep after
 * a crash.
 */
export class TempFiles {
  private readonly spares = new Map<string, Promise<TempFile | undefined>>();
  private closed = false;

  constructor(private readonly mode = 0o600) {}

  /** An open, empty temporary file in `dir`: the spare when there is one; a new spare is started. */
  async take(dir: string): Promise<TempFile> {
    const spare = this.spares.get(dir);
    this.spares.delete(dir);
    if (!this.closed) {
      this.spares.set(dir, createTemp(dir, this.mode).catch(() => undefined));
      // Only the studies written to most recently keep a spare.
      for (const other of this.spares.keys()) {
        if (this.spares.size <= SPARE_DIRECTORIES) break;
        void this.discard(other);
      }
    }
    let temp = spare ? await spare : undefined;
    if (temp && Date.now() - temp.createdAt > SPARE_MAX_AGE_MS) {
      void discard(temp);
      temp = undefined;
    }
    return temp ?? createTempSync(dir, this.mode);
  }

  /** Removes the spare of a directory (before the directory is removed). */
  async discard(dir: string): Promise<void> {
    const spare = this.spares.get(dir);
    this.spares.delete(dir);
    const temp = await spare;
    if (temp) await discard(temp);
  }

  /** Removes every spare; no new ones are made. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.spares.keys()].map((dir) => this.discard(dir)));
  }
}

function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${pooledRandomBytes(8).toString('hex')}`);
}

function createTempSync(dir: string, mode: number): TempFile {
  const path = tempPath(dir);
  return { path, fd: openSync(path, 'wx', mode), createdAt: Date.now() };
}

function createTemp(dir: string, mode: number): Promise<TempFile> {
  const path = tempPath(dir);
  return new Promise((resolve, reject) => open(path, 'wx', mode, (err, fd) => (err ? reject(err) : resolve({ path, fd, createdAt: Date.now() }))));
}

/** Closes and removes a spare; resolves once it is gone (errors ignored: the sweep catches leftovers). */
function discard(temp: TempFile): Promise<void> {
  return new Promise((resolve) => close(temp.fd, () => unlink(temp.path, () => resolve())));
}

/** A new file, completely written under its final name, whose flushes are still running. */
export interface WrittenFile {
  /**
   * Resolves once content and name are on disk: an fdatasync of the file and an fsync of the
   * directory (shared with concurrent writers), run together on the libuv pool. Rejects when
   * either fails; the file is left for the caller to judge.
   */
  flushed: Promise<void>;
}

/**
 * Writes a new file that a caller publishes only once it is flushed (a database row that points
 * to it, or one that is confirmed only then). The bytes go to a temporary file (a spare from
 * `temps`), which takes its final name as soon as they are written: content and name are then
 * flushed at once, where temp-fsync-rename-fsync flushes twice in a row. Renaming is a quick call
 * made in place (it may wait for the directory's lock while the next spare is created); the
 * flushes go to the pool, and so does the copy of the bytes into the page cache unless the file
 * is alone (`writeAll`). A process crash leaves at most a temporary file (a final name is given
 * only to completely written bytes); a power loss before the flushes end may leave the final
 * name incomplete.
 */
export async function writeNewFile(path: string, chunks: readonly Uint8Array[], directories: DirectorySyncs, temps: TempFiles): Promise<WrittenFile> {
  const dir = dirname(path);
  filesInFlight++;
  const { path: temp, fd } = await temps.take(dir).catch((err: unknown) => {
    filesInFlight--;
    throw err;
  });
  try {
    await writeAll(fd, chunks, filesInFlight === 1);
    renameSync(temp, path);
  } catch (err) {
    filesInFlight--;
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  // Both flushes must end before the caller may publish; wait for both even when one fails.
  const flushed = Promise.allSettled([new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve()))), directories.sync(dir)]).then(([data, entry]) => {
    filesInFlight--;
    closeSync(fd);
    if (data.status === 'rejected') throw data.reason;
    if (entry.status === 'rejected') throw entry.reason;
  });
  // The caller awaits it, maybe only after other work: a failure meanwhile is not unhandled.
  flushed.catch(() => undefined);
  return { flushed };
}

/**
 * Files of this process between their first write and the end of their flushes. The event loop is
 * the process's, so this is too.
 */
let filesInFlight = 0;

/**
 * Writes the chunks at the file's current position with one writev, then whatever a short write
 * left. The copy into the page cache is the slow part: while other files are being written or
 * flushed it goes to the libuv pool, so the event loop serves their senders meanwhile; a file
 * alone (one association sending one instance at a time) is written in place, where handing it
 * to the pool and back would only add two thread switches to the sender's wait. One write per
 * file: a positional write per chunk, to overlap writing with producing the next, cost more CPU
 * than the overlap saved (`npm run bench -- edge-store`).
 */
async function writeAll(fd: number, chunks: readonly Uint8Array[], inPlace: boolean): Promise<void> {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  let written = inPlace ? writevSync(fd, chunks as Uint8Array[]) : await new Promise<number>((resolve, reject) => writev(fd, chunks as Uint8Array[], (err, n) => (err ? reject(err) : resolve(n))));
  for (const chunk of chunks) {
    if (written >= total) break;
    const skip = Math.min(written, chunk.length);
    written -= skip;
    for (let off = skip; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
  }
}
