/** Why an instance was not de-identified: data, with a code a caller can branch on. */
import type { DicomParseErrorCode } from './dicom/errors.js';

export type DeidentificationErrorCode =
  | DicomParseErrorCode
  /** BurnedInAnnotation is YES, or the kind of instance usually carries burned-in text. */
  | 'burned-in-annotation'
  /** No SOP Class / SOP Instance UID: not a composite instance (a DICOMDIR, a bare fragment). */
  | 'not-an-instance';

export interface DeidentificationError {
  code: DeidentificationErrorCode;
  /** A clear reason, free of patient data. */
  message: string;
  /** The tag concerned, as "(gggg,eeee)", when there is one. */
  tag?: string;
}
