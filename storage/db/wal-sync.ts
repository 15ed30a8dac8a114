/**
 * Durability of SQLite commits without blocking the event loop. Hot-path transactions commit
 * with `synchronous = NORMAL` (the WAL frames are written but not flushed, which SQLite keeps
 * crash-consistent) and then wait for an fdatasync of the `-wal` file run on the libuv pool.
 * Flushing the file flushes every frame written before it, so commits that finish while a flush
 * is running share the next one: group commit. A commit is reported only once flushed, exactly
 * as under `synchronous = FULL`.
 */
import { flushPath } from '../fs-durable.js';
import { SyncGroup } from '../sync-group.js';

/**
 * Flushes `<sqliteFile>-wal` to disk (fdatasync on the libuv pool). A missing WAL needs no
 * flush: the last connection checkpointed it into the database file, synced that, and removed it.
 */
export async function flushWal(sqliteFile: string): Promise<void> {
  await flushPath(`${sqliteFile}-wal`, 'data');
}

/** A group-committed flush of `<sqliteFile>-wal`. */
export function walSyncGroup(sqliteFile: string): SyncGroup {
  // After a failed flush the kernel may have dropped the dirty pages: never report durability again.
  return new SyncGroup(() => flushWal(sqliteFile), { sticky: true });
}
