/**
 * The review gate (EU AI Act human oversight): one review per processed study. A decision records
 * who, when, the comment, and exactly what was approved: the SEG's SOP Instance UID and the GLB's
 * SHA-256. A decided review never changes again.
 */
import type { Knex } from 'knex';
import { appendAuditEvent, type AuditEventInput } from './audit.js';
import type { Database } from './db/index.js';
import { sqlIn } from './db/sql.js';
import { writeTransaction } from './db/transaction.js';
import { dateOrNull, jsonObject } from './db/rows.js';
import { StorageError } from './errors.js';
import { insertJob } from './jobs.js';
import { moveStudy, type StudyStatus } from './studies.js';

export const REVIEW_STATUSES = ['pending', 'in_review', 'approved', 'rejected'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export interface Review {
  studyInstanceUID: string;
  status: ReviewStatus;
  /** What the reviewer is shown: model, segments with volumes, SEG and GLB identities (PHI-free). */
  summary: Record<string, unknown>;
  segSOPInstanceUID: string;
  glbSha256: string;
  createdAt: Date;
  /** When the review first went to `in_review`. */
  openedAt: Date | null;
  /** Who first opened it (a user, or `token:<id>`); null for reviews opened before this was kept. */
  openedBy: string | null;
  decidedAt: Date | null;
  decidedBy: string | null;
  comment: string | null;
}

export interface ReviewInput {
  studyInstanceUID: string;
  summary: Record<string, unknown>;
  segSOPInstanceUID: string;
  glbSha256: string;
}

export type Decision = 'approve' | 'reject';

/**
 * What a decision changes besides the review, in the same transaction: the study's status, the
 * export jobs an approval queues, and the audit event. A crash can leave none of it half done.
 */
export interface DecisionEffects {
  /** The study's status after the decision (`approved`, `rejected`). */
  studyStatus: StudyStatus;
  /** Jobs to queue with the decision (an approval's exports), each with its payload. */
  jobs?: ReadonlyArray<{ type: string; payload: unknown; maxAttempts: number }>;
  /** The decision's audit event, made from the decided review. */
  audit: (review: Review) => AuditEventInput;
}

export type DecideResult = { ok: true; review: Review } | { ok: false; reason: 'not-found' | 'already-decided' | 'stale' ; review?: Review };

export class Reviews {
  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  /** Creates the study's review, or replaces an undecided one (a re-run with another model). */
  async create(input: ReviewInput): Promise<Review> {
    await writeTransaction(this.db, (trx) => replaceReview(trx, input, this.now()));
    return (await this.get(input.studyInstanceUID))!;
  }

  async get(studyInstanceUID: string): Promise<Review | null> {
    const row = await this.db.knex('reviews').where({ study_instance_uid: studyInstanceUID }).first();
    return row ? toReview(row) : null;
  }

  async list(status?: ReviewStatus[], limit = 200): Promise<Review[]> {
    const q = this.db.knex('reviews').orderBy('created_at', 'desc').limit(limit);
    if (status?.length) q.whereIn('status', status);
    return (await q).map(toReview);
  }

  /**
   * Marks a pending review as being looked at by `by`. Only the first opening counts: who opened
   * it and when are kept, and a later reviewer opening it changes neither (the conditional update
   * makes two openings at once agree on one).
   */
  async open(studyInstanceUID: string, by: string): Promise<void> {
    await this.db
      .knex('reviews')
      .where({ study_instance_uid: studyInstanceUID, status: 'pending' })
      .update({ status: 'in_review', opened_at: this.now().getTime(), opened_by: by });
  }

  /**
   * Decides once. `expected` pins what the reviewer saw: a decision about another SEG or GLB
   * (the study was re-run meanwhile) is refused as stale.
   */
  async decide(
    studyInstanceUID: string,
    decision: Decision,
    by: string,
    comment: string | null,
    expected?: { segSOPInstanceUID?: string; glbSha256?: string },
    effects?: DecisionEffects,
  ): Promise<DecideResult> {
    return writeTransaction(this.db, async (trx) => {
      const row = await trx('reviews').where({ study_instance_uid: studyInstanceUID }).first();
      if (!row) return { ok: false, reason: 'not-found' } as const;
      const review = toReview(row);
      if (review.status === 'approved' || review.status === 'rejected') return { ok: false, reason: 'already-decided', review } as const;
      if ((expected?.segSOPInstanceUID && expected.segSOPInstanceUID !== review.segSOPInstanceUID) || (expected?.glbSha256 && expected.glbSha256 !== review.glbSha256)) {
        return { ok: false, reason: 'stale', review } as const;
      }
      const t = this.now().getTime();
      await trx('reviews')
        .where({ study_instance_uid: studyInstanceUID })
        .update({ status: decision === 'approve' ? 'approved' : 'rejected', decided_at: t, decided_by: by, comment, ...(review.openedAt ? {} : { opened_at: t, opened_by: by }) });
      const decided = toReview(await trx('reviews').where({ study_instance_uid: studyInstanceUID }).first());
      if (effects) {
        const event = effects.audit(decided);
        await moveStudy(trx, studyInstanceUID, effects.studyStatus, new Date(t));
        for (const job of effects.jobs ?? []) await insertJob(trx, new Date(t), job.type, studyInstanceUID, job.payload, job.maxAttempts);
        await appendAuditEvent(sqlIn(trx, this.db), new Date(t), event);
      }
      return { ok: true, review: decided } as const;
    });
  }
}

/** Inserts the study's pending review in `trx`, replacing an undecided one; an approved review is final. */
export async function replaceReview(trx: Knex.Transaction, input: ReviewInput, now: Date): Promise<void> {
  const existing = await trx('reviews').where({ study_instance_uid: input.studyInstanceUID }).first('status');
  if (existing && existing.status === 'approved') {
    throw new StorageError('invalid-input', 'an approved review is final; its result was delivered', { path: input.studyInstanceUID });
  }
  await trx('reviews').where({ study_instance_uid: input.studyInstanceUID }).delete();
  await trx('reviews').insert({
    study_instance_uid: input.studyInstanceUID,
    status: 'pending',
    summary: JSON.stringify(input.summary),
    seg_sop_instance_uid: input.segSOPInstanceUID,
    glb_sha256: input.glbSha256,
    created_at: now.getTime(),
  });
}

function toReview(row: Record<string, unknown>): Review {
  return {
    studyInstanceUID: String(row.study_instance_uid),
    status: String(row.status) as ReviewStatus,
    summary: jsonObject(row.summary),
    segSOPInstanceUID: String(row.seg_sop_instance_uid),
    glbSha256: String(row.glb_sha256),
    createdAt: dateOrNull(row.created_at) ?? new Date(0),
    openedAt: dateOrNull(row.opened_at),
    openedBy: row.opened_by === null || row.opened_by === undefined ? null : String(row.opened_by),
    decidedAt: dateOrNull(row.decided_at),
    decidedBy: row.decided_by === null || row.decided_by === undefined ? null : String(row.decided_by),
    comment: row.comment === null || row.comment === undefined ? null : String(row.comment),
  };
}
