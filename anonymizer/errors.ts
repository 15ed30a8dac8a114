/** Why an instance was not de-identified: data, with a code a caller can branch on. */
import type { DicomParseErrorCode } from './dicom/errors.js';

export type DeidentificationErrorCode =
  | DicomParseErrorCode
  /** BurnedInAnnotation is YES, or the kind of instance usually carries burned-in text. */
  | 'burned-in-annotation'
  /** No SOP Class / SOP Instance UID: not a composite instance (a DICOMDIR, a bare fragment). */
  | 'not-an-instance'
  /**
   * A value the profile would keep cannot be what its VR says (control characters in a string, a
   * SOP Class UID that is no UID): a length or tag that is off ran it over other elements, whose
   * values no action reached.
   */
  | 'damaged-value';

export interface DeidentificationError {
  code: DeidentificationErrorCode;
  /** A clear reason, free of patient data. */
  message: string;
  /** The tag concerned, as "(gggg,eeee)", when there is one. */
  tag?: string;
}
