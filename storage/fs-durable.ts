/**
 * Durable file writes: a file is visible under its final name only once its content is on
 * disk, and its directory entry is on disk before the caller is told so.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/** Prefix of temporary files; anything carrying it is an unfinished write. */
export const TEMP_PREFIX = '.tmp-';

/** Flushes a directory's entries (new, renamed or removed files) to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
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

/** Writes `data` to `path` via a temporary file in the same directory: write, fsync, rename, fsync dir. */
export async function writeFileDurable(path: string, chunks: readonly Uint8Array[], mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      const total = chunks.reduce((n, c) => n + c.length, 0);
      // One writev in the usual case; a short write falls back to finishing chunk by chunk.
      let written = (await handle.writev(chunks as Uint8Array[])).bytesWritten;
      for (const chunk of chunks) {
        if (written >= total) break;
        const skip = Math.min(written, chunk.length);
        written -= skip;
        for (let off = skip; off < chunk.length; ) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}
