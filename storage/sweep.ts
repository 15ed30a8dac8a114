/**
 * Crash leftovers: blob files no row points to (a crash between the blob's rename and the
 * database commit), temporary files of unfinished writes, and study rows that never received
 * an instance. Only things older than a grace period are touched, so writes in flight are safe.
 */
import type { BlobStore } from './blobs.js';
import type { Database } from './db/index.js';

/** Columns that reference blob paths, with the study they belong to. Add new blob owners here. */
const BLOB_REFERENCES = [
  { table: 'instances', column: 'blob_path', studyColumn: 'study_instance_uid' },
  { table: 'results', column: 'blob_path', studyColumn: 'study_instance_uid' },
] as const;

export const DEFAULT_SWEEP_GRACE_SECONDS = 3600;

export interface SweepOptions {
  /** Leave anything younger than this alone (default one hour). */
  olderThanSeconds?: number;
  now?: Date;
}

export interface SweepReport {
  orphanBlobs: number;
  tempFiles: number;
  emptyStudies: number;
}

/** Removes orphan blobs, stale temporary files and empty study rows. */
export async function sweepOrphanBlobs(db: Database, blobs: BlobStore, now: Date, options: SweepOptions = {}): Promise<SweepReport> {
  const cutoff = (options.now ?? now).getTime() - (options.olderThanSeconds ?? DEFAULT_SWEEP_GRACE_SECONDS) * 1000;
  const report: SweepReport = { orphanBlobs: 0, tempFiles: 0, emptyStudies: 0 };
  const byDir = new Map<string, typeof entries>();
  const entries = (await blobs.list()).filter((e) => e.modifiedAt.getTime() < cutoff);
  for (const e of entries) {
    if (e.temp) {
      await blobs.remove(e.relPath);
      report.tempFiles += 1;
      continue;
    }
    byDir.set(e.dir, [...(byDir.get(e.dir) ?? []), e]);
  }
  for (const [dir, files] of byDir) {
    const referenced = new Set<string>();
    for (const ref of BLOB_REFERENCES) {
      const rows = await db.knex(ref.table).where(ref.studyColumn, dir).select(ref.column);
      for (const row of rows) referenced.add(String(row[ref.column]));
    }
    for (const f of files) {
      if (referenced.has(f.relPath)) continue;
      await blobs.remove(f.relPath);
      report.orphanBlobs += 1;
    }
  }
  report.emptyStudies = Number(await db.knex('studies').where('instance_count', 0).andWhere('updated_at', '<', cutoff).delete());
  return report;
}
