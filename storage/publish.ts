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
import { deleteSeriesRows } from './instances.js';
import { replaceReview, type ReviewInput } from './reviews.js';
import { moveStudy } from './studies.js';

/** What publishing a result changes besides its review. */
export interface PublishEffects {
  /** SEG series of an earlier run that the new result replaces. */
  supersededSeries: readonly string[];
  /** The event of the finished processing (`processing.completed`). */
  audit: AuditEventInput;
}

export async function publishReview(db: Database, blobs: BlobStore, now: Date, review: ReviewInput, effects: PublishEffects): Promise<void> {
  const study = review.studyInstanceUID;
  const removed = await writeTransaction(db, async (trx) => {
    await replaceReview(trx, review, now);
    const paths: string[] = [];
    for (const series of effects.supersededSeries) paths.push(...(await deleteSeriesRows(trx, study, series, now)));
    await moveStudy(trx, study, 'awaiting_review', now);
    await appendAuditEvent(sqlIn(trx, db.dialect), now, effects.audit);
    return paths;
  });
  for (const path of removed) await blobs.remove(path);
}
