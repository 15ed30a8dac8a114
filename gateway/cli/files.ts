/** File helpers for CLI commands: recursive listing and writes that are never seen half-done. */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Every regular file under the given paths, directories read recursively, in a stable order. */
export function listFiles(paths: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      missing.push(p);
      return;
    }
    if (st.isDirectory()) for (const name of readdirSync(p).sort()) walk(join(p, name));
    else if (st.isFile()) files.push(p);
  };
  for (const p of paths) walk(p);
  return { files, missing };
}

/**
 * Writes a file atomically: a temp file beside it, then rename, so no reader ever sees half a file.
 * `durable` adds an fsync before the rename, for files that must survive a power loss.
 */
export function writeFileAtomic(path: string, data: Uint8Array, mode = 0o644, durable = true): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    if (durable) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
