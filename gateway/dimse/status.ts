/**
 * C-STORE response statuses (PS3.4 Annex B.2.3, PS3.7 Annex C) and the ErrorComment that
 * goes with a failure.
 */
import type { IngestOutcome } from '../ingest/types.js';

export const CStoreStatus = {
  Success: 0x0000,
  SopClassNotSupported: 0x0122,
  OutOfResources: 0xa700,
  DataSetDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
} as const;
export type CStoreStatus = (typeof CStoreStatus)[keyof typeof CStoreStatus];

/** What Limen answers a C-STORE with. */
export interface StoreAnswer {
  status: CStoreStatus;
  /** ErrorComment (0000,0902), failures only. */
  errorComment?: string;
  /** The whole reason, for the log, when the ErrorComment had to shorten it. */
  reason?: string;
}

/** ErrorComment is LO: at most 64 characters of the default repertoire, no backslash. */
const ERROR_COMMENT_MAX = 64;
/** Ends a shortened ErrorComment. U+2026 is not in the default repertoire: three full stops. */
const ELLIPSIS = '...';

/**
 * Makes any text a valid LO value for the command set. Longer text is cut at the last word
 * boundary that fits with the ellipsis, so no word or number is cut short; only a first word
 * too long to fit (a long UID) is cut inside.
 */
export function toErrorComment(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]|\\/g, ' ').replace(/\s+/g, ' ').trim();
  if (clean.length <= ERROR_COMMENT_MAX) return clean;
  const room = ERROR_COMMENT_MAX - ELLIPSIS.length;
  // A space at `room` or before it ends a word that fits whole. "because: ..." would read as if
  // the reason itself were left out, so separators before the cut go.
  const boundary = clean.lastIndexOf(' ', room);
  const head = boundary > 0 ? clean.slice(0, boundary).replace(/[\s,;:-]+$/, '') : '';
  return (head || clean.slice(0, room)) + ELLIPSIS;
}

/** Maps the ingest outcome to the C-STORE status the sender sees. */
export function answerForOutcome(outcome: IngestOutcome): StoreAnswer {
  if (outcome.ok) return { status: CStoreStatus.Success };
  const errorComment = toErrorComment(outcome.reason);
  return { status: statusForFailure(outcome.code), errorComment, ...(errorComment !== outcome.reason && { reason: outcome.reason }) };
}

function statusForFailure(code: Extract<IngestOutcome, { ok: false }>['code']): CStoreStatus {
  switch (code) {
    case 'out-of-resources':
      return CStoreStatus.OutOfResources;
    case 'sop-class-mismatch':
      return CStoreStatus.DataSetDoesNotMatchSopClass;
    case 'cannot-understand':
    // PS3.4 has no C-STORE status of its own for it (and negotiation keeps it off an association).
    case 'transfer-syntax-not-supported':
      return CStoreStatus.CannotUnderstand;
    case 'sop-class-not-supported':
      return CStoreStatus.SopClassNotSupported;
    default: {
      // A code added to the contract later must not turn into a success.
      const unknown: never = code;
      void unknown;
      return CStoreStatus.CannotUnderstand;
    }
  }
}

/** Failures Limen answers without asking the ingest. */
export const LocalFailure = {
  ingestThrew: { status: CStoreStatus.OutOfResources, errorComment: 'Internal error while storing the instance' },
  noDataSet: { status: CStoreStatus.CannotUnderstand, errorComment: 'C-STORE request without a data set' },
  // Type 1 in a C-STORE-RQ (PS3.7 9.3.1.1): the request cannot be answered for an instance it does not name.
  noAffectedSopClass: { status: CStoreStatus.CannotUnderstand, errorComment: 'C-STORE request without Affected SOP Class UID (0000,0002)' },
  noAffectedSopInstance: { status: CStoreStatus.CannotUnderstand, errorComment: 'C-STORE request without Affected SOP Instance UID (0000,1000)' },
  tooLarge: { status: CStoreStatus.OutOfResources, errorComment: 'Data set exceeds the size limit of this node' },
  noMemory: { status: CStoreStatus.OutOfResources, errorComment: 'Too many instances in memory now; send it again later' },
  sopClassNotOnContext: {
    status: CStoreStatus.SopClassNotSupported,
    errorComment: 'Affected SOP Class differs from the presentation context',
  },
} as const satisfies Record<string, StoreAnswer>;

export type LocalFailureReason = keyof typeof LocalFailure;

const LOCAL_FAILURE_REASONS = new Map<StoreAnswer, LocalFailureReason>(Object.entries(LocalFailure).map(([reason, answer]) => [answer, reason as LocalFailureReason]));

/** Which local failure an answer is, if it is one. */
export function localFailureReason(answer: StoreAnswer): LocalFailureReason | undefined {
  return LOCAL_FAILURE_REASONS.get(answer);
}
