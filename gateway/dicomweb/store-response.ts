/**
 * The Store Instances Response Module (PS3.18 Annex I) as a DICOM JSON dataset (PS3.18 Annex F; `dicom-xml.ts` renders it as XML), and
 * the HTTP status of a Studies Store Transaction (PS3.18 Table 10.5.3-1).
 */
import type { IngestFailureCode } from '../ingest/types.js';
import type { JsonDataset } from './dicom-json.js';

/** Failure Reason (0008,1197) values used by Limen (PS3.18 Table I.2-2). */
export const FailureReason = {
  /** A7xx Refused: out of resources. */
  outOfResources: 0xa700,
  /**
   * A9xx Error: Data Set does not match SOP Class. Also used when the instance's Study
   * Instance UID differs from the study named in the request URL, which Table 10.5.3-1 counts
   * as a conflict; Table I.2-2 leaves the code to the implementation.
   */
  dataSetDoesNotMatch: 0xa900,
  /** Cxxx Error: cannot understand. */
  cannotUnderstand: 0xc000,
  /** 0110 Processing failure: an unexpected error while storing. */
  processingFailure: 0x0110,
  /** 0122 Referenced SOP Class not supported. */
  sopClassNotSupported: 0x0122,
  /** C122 Referenced Transfer Syntax not supported. */
  transferSyntaxNotSupported: 0xc122,
} as const;

/** The Failure Reason answering an edge failure. */
export function failureReasonFor(code: IngestFailureCode): number {
  switch (code) {
    case 'out-of-resources':
      return FailureReason.outOfResources;
    case 'sop-class-mismatch':
      return FailureReason.dataSetDoesNotMatch;
    case 'sop-class-not-supported':
      return FailureReason.sopClassNotSupported;
    case 'cannot-understand':
      return FailureReason.cannotUnderstand;
    case 'transfer-syntax-not-supported':
      return FailureReason.transferSyntaxNotSupported;
  }
}

/** One instance of the request, referenced by the sender's own UIDs. */
export interface StoredReference {
  sopClassUID: string;
  sopInstanceUID: string;
}

export interface FailedReference {
  /** Absent when the part could not be read far enough to know them. */
  sopClassUID?: string;
  sopInstanceUID?: string;
  failureReason: number;
  /** A short PHI-free explanation, sent as Error Comment (0000,0902). */
  comment?: string;
}

/**
 * The response body. Retrieve URL (0008,1190) is type 2 and left empty: the sender cannot
 * retrieve what it stored (Limen keeps only the de-identified instance, under other UIDs).
 * Each failed item carries Error Comment (0000,0902) with the reason in words, beyond the
 * standard's module, for the people reading a sender's logs.
 */
export function storeResponse(stored: readonly StoredReference[], failed: readonly FailedReference[]): JsonDataset {
  const body: JsonDataset = { '00081190': { vr: 'UR' } };
  if (failed.length > 0) {
    body['00081198'] = {
      vr: 'SQ',
      Value: failed.map((f) => {
        const item: JsonDataset = {};
        if (f.sopClassUID) item['00081150'] = { vr: 'UI', Value: [f.sopClassUID] };
        if (f.sopInstanceUID) item['00081155'] = { vr: 'UI', Value: [f.sopInstanceUID] };
        item['00081197'] = { vr: 'US', Value: [f.failureReason] };
        if (f.comment) item['00000902'] = { vr: 'LO', Value: [errorComment(f.comment)] };
        return item;
      }),
    };
  }
  if (stored.length > 0) {
    body['00081199'] = {
      vr: 'SQ',
      Value: stored.map((s) => ({
        '00081150': { vr: 'UI', Value: [s.sopClassUID] },
        '00081155': { vr: 'UI', Value: [s.sopInstanceUID] },
        '00081190': { vr: 'UR' },
      })),
    };
  }
  return body;
}

/** 200 when every instance was stored, 202 when some were, 409 when none was. */
export function storeStatus(storedCount: number, failedCount: number): 200 | 202 | 409 {
  if (failedCount === 0 && storedCount > 0) return 200;
  if (storedCount > 0) return 202;
  return 409;
}

/** LO holds 64 characters and no backslash or control characters. */
function errorComment(text: string): string {
  const clean = text.replace(/[\\\x00-\x1f]/g, ' ').trim();
  return clean.length <= 64 ? clean : `${clean.slice(0, 61)}...`;
}
