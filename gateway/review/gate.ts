/**
 * The gate: nothing leaves before a reviewer approves, and a rejected result never leaves.
 * Deciding records who, when, the comment and exactly what was approved (the SEG's SOP Instance
 * UID and the GLB's SHA-256) in the database and the audit trail, then queues one export per
 * destination of the study's route. The audit trail, kept for good, takes the comment's SHA-256,
 * not its text: a reviewer may type anything, and the review row holding it is erased with the study.
 */
import { createHash } from 'node:crypto';
import type { LimenConfig } from '../../config/index.js';
import { isLinkageRecord } from '../../anonymizer/index.js';
import type { Decision, Review, Storage } from '../../storage/index.js';
import { identifiersInComment } from './comment-identifiers.js';

export const EXPORT_JOB = 'export';

const IDENTIFIER_WORDS: Record<string, string> = { PatientName: 'name', PatientID: 'patient ID', AccessionNumber: 'accession number', PatientBirthDate: 'birth date' };

export interface DecisionInput {
  decision: Decision;
  /** The reviewer's account (token user or id): pseudonymous, never a patient's data. */
  by: string;
  comment: string | null;
  /** What the reviewer saw, so a decision about a superseded result is refused. */
  expected?: { segSOPInstanceUID?: string; glbSha256?: string };
}

export type DecisionOutcome =
  | { ok: true; review: Review; exports: string[] }
  | { ok: false; status: 400 | 404 | 409 | 422; code: string; message: string; review?: Review };

export class ReviewGate {
  constructor(
    private readonly storage: Pick<Storage, 'reviews' | 'getStudy' | 'vault' | 'audit'>,
    private readonly config: Pick<LimenConfig, 'routes' | 'export'>,
    /** Called once exports are queued (wakes the exporter). */
    private readonly onExportsQueued: () => void = () => {},
  ) {}

  async decide(studyInstanceUID: string, input: DecisionInput): Promise<DecisionOutcome> {
    if (input.decision === 'reject' && !input.comment?.trim()) {
      return { ok: false, status: 400, code: 'comment-required', message: 'a rejection needs a comment saying why' };
    }
    const comment = input.comment?.trim() || null;
    const identifiers = comment ? identifiersInComment(comment, (await this.storage.vault.open(studyInstanceUID)).map((r) => r.record).filter(isLinkageRecord)) : [];
    if (identifiers.length > 0) {
      // Recorded without the comment: the privacy officer sees that it happened, and how often.
      await this.storage.audit.append({ type: 'review.comment-refused', actor: input.by, studyInstanceUID, detail: { decision: input.decision, identifiers } });
      return { ok: false, status: 422, code: 'comment-identifies', message: `the comment names the patient (${identifiers.map((k) => IDENTIFIER_WORDS[k] ?? k).join(', ')}); a comment is kept outside the vault, so write it without: nothing was recorded` };
    }
    // The route's destinations are known before deciding: the decision, the study's status, its
    // exports and its audit event then commit together.
    const study = await this.storage.getStudy(studyInstanceUID);
    const destinations = input.decision === 'approve' ? (study && this.config.routes[study.route]?.destinations) || [] : [];
    const maxAttempts = this.config.export.retryDelaysSeconds.length + 1;
    const r = await this.storage.reviews.decide(studyInstanceUID, input.decision, input.by, comment, input.expected, {
      studyStatus: input.decision === 'approve' ? 'approved' : 'rejected',
      jobs: destinations.map((destination) => ({ type: EXPORT_JOB, payload: { destination }, maxAttempts })),
      audit: (review) => ({
        type: input.decision === 'approve' ? 'review.approved' : 'review.rejected',
        actor: input.by,
        studyInstanceUID,
        detail: {
          segSOPInstanceUID: review.segSOPInstanceUID,
          glbSha256: review.glbSha256,
          commentSha256: review.comment === null ? null : createHash('sha256').update(review.comment, 'utf8').digest('hex'),
          decidedAt: review.decidedAt?.toISOString(),
        },
      }),
    });
    if (!r.ok) {
      if (r.reason === 'not-found') return { ok: false, status: 404, code: 'not-found', message: 'no review for this study' };
      if (r.reason === 'stale') return { ok: false, status: 409, code: 'stale', message: 'the result was replaced since it was shown; reload and review again', review: r.review };
      return { ok: false, status: 409, code: 'already-decided', message: `already ${r.review?.status}`, review: r.review };
    }
    if (destinations.length > 0) this.onExportsQueued();
    return { ok: true, review: r.review, exports: [...destinations] };
  }
}
