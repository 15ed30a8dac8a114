/**
 * A processed result becomes the study's review in one transaction: the review (replacing an
 * undecided one), the rows of the SEG series it supersedes, and the study's move to
 * `awaiting_review` with its event. A reader sees the old result or the new one, never a review
 * of a study still processing, nor two SEGs; a crash leaves the old result whole. The superseded
 * blobs are removed once the transaction has committed (after a crash, by the orphan sweep).
 */
import { appendAuditEvent, type AuditEventInput } from './audit.js';
import type { BlobStore } from './blobs.js';
import type { Database } from './db/index.js';
import { sqlIn } from './db/sql.js';
import { writeTransaction } from './db/transaction.js';
import { StorageError } from './errors.js';
import { deleteSeriesRows } from './instances.js';
import { replaceReview, type ReviewInput } from './reviews.js';
import { moveStudy } from './studies.js';

/** What publishing a result changes besides its review. */
export interface PublishEffects {
  /** SEG series of an earlier run that the new result replaces. */
  supersededSeries: readonly string[];
  /** The event of the finished processing (`processing.completed`). */
  audit: AuditEventInput;
  /**
   * The instances the result was made from, and the series the result itself was stored as: when
   * the study holds other instances now (sent while it was being processed), the result is stale.
   */
  sources?: { instanceCount: number; resultSeries: string };
  /**
   * The job that made the result, which must still be this worker's: a run cut off by a stop and
   * handed back (perhaps already claimed again) publishes nothing (`job-lost`).
   */
  job?: { id: number; workerId: string };
}

/**
 * `published`, or `stale`: instances arrived while the study was processed. A stale result is
 * not put up for review (a radiologist would approve a segmentation of part of the series): its
 * series is removed and the study goes back to `receiving`, so that it completes again, whole,
 * after its stable time. Recorded as `processing.superseded`.
 */
export type PublishOutcome = 'published' | 'stale';

export async function publishReview(db: Database, blobs: BlobStore, now: Date, review: ReviewInput, effects: PublishEffects): Promise<PublishOutcome> {
  const study = review.studyInstanceUID;
  let outcome: PublishOutcome = 'published';
  const removed = await writeTransaction(db, async (trx) => {
    const { sources, job } = effects;
    if (job) {
      const held = await trx('jobs').where({ id: job.id, worker_id: job.workerId, status: 'running' }).modify((q) => db.dialect === 'postgres' && q.forUpdate()).first('id');
      if (!held) throw new StorageError('job-lost', 'the job was handed back before its result was published: nothing of this run is published', { path: String(job.id) });
    }
    // A store into the study holds its row until it commits (PostgreSQL): counted after it, never beside it.
    if (db.dialect === 'postgres') await trx('studies').where({ study_instance_uid: study }).forUpdate().first('status');
    if (sources) {
      const others = [sources.resultSeries, ...effects.supersededSeries];
      const row = await trx('instances').where({ study_instance_uid: study }).whereNotIn('series_instance_uid', others).count({ n: '*' }).first();
      const instanceCount = Number(row?.n ?? 0);
      if (instanceCount !== sources.instanceCount) {
        outcome = 'stale';
        const paths = await deleteSeriesRows(trx, study, sources.resultSeries, now);
        await moveStudy(trx, study, 'receiving', now, 'processing');
        await appendAuditEvent(sqlIn(trx, db), now, {
          type: 'processing.superseded',
          actor: effects.audit.actor,
          studyInstanceUID: study,
          detail: { processedInstances: sources.instanceCount, instancesNow: instanceCount, reason: 'instances arrived while the study was processed: it completes again and is processed whole' },
        });
        return paths;
      }
    }
    await replaceReview(trx, review, now);
    const paths: string[] = [];
    for (const series of effects.supersededSeries) paths.push(...(await deleteSeriesRows(trx, study, series, now)));
    await moveStudy(trx, study, 'awaiting_review', now);
    await appendAuditEvent(sqlIn(trx, db), now, effects.audit);
    return paths;
  });
  for (const path of removed) await blobs.remove(path);
  return outcome;
}
