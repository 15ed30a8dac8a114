/**
 * Records the flushes (fsync, fdatasync) Limen's storage makes, by path, and can hold one back.
 * Durability is a property of the order of syscalls that no read-back shows; storage imports
 * node:fs's functions, so they are replaced on the module itself and re-exported to ESM importers
 * with `syncBuiltinESMExports`.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

type FsModule = typeof import('node:fs');
const fs = createRequire(import.meta.url)('node:fs') as FsModule;

export interface Flush {
  path: string;
  kind: 'fsync' | 'fdatasync';
  ended: boolean;
}

export interface FlushSpy {
  readonly flushes: Flush[];
  restore(): void;
}

/** From now until `restore`: every flush is recorded; `delayMs(path)` holds a flush's answer back. */
export function spyOnFlushes(options: { delayMs?: (path: string) => number } = {}): FlushSpy {
  const original = { openSync: fs.openSync, fsync: fs.fsync, fdatasync: fs.fdatasync };
  const paths = new Map<number, string>();
  const flushes: Flush[] = [];
  fs.openSync = ((path: Parameters<FsModule['openSync']>[0], ...rest: unknown[]) => {
    const fd = (original.openSync as (...a: unknown[]) => number)(path, ...rest);
    paths.set(fd, String(path));
    return fd;
  }) as FsModule['openSync'];
  const wrap = (kind: Flush['kind']) =>
    ((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
      const flush: Flush = { path: paths.get(fd) ?? `fd:${fd}`, kind, ended: false };
      flushes.push(flush);
      original[kind](fd, (err) => {
        setTimeout(() => {
          flush.ended = true;
          callback(err);
        }, options.delayMs?.(flush.path) ?? 0);
      });
    }) as FsModule['fsync'];
  fs.fsync = wrap('fsync');
  fs.fdatasync = wrap('fdatasync');
  syncBuiltinESMExports();
  return {
    flushes,
    restore() {
      Object.assign(fs, original);
      syncBuiltinESMExports();
    },
  };
}
