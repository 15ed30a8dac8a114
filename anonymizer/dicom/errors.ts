/** Why bytes could not be read as DICOM: errors are data, with a code, the offset and the tag. */
import { formatTag, type Tag } from './tag.js';

export type DicomParseErrorCode =
  | 'not-part10'
  | 'truncated'
  | 'bad-length'
  | 'bad-vr'
  | 'too-deep'
  | 'bad-item'
  | 'no-transfer-syntax'
  | 'unsupported-transfer-syntax'
  | 'deflate-failed'
  | 'pixel-data-encoding';

export class DicomParseError extends Error {
  override readonly name = 'DicomParseError';
  constructor(
    readonly code: DicomParseErrorCode,
    message: string,
    readonly offset?: number,
    readonly tag?: Tag,
  ) {
    super(`${message}${tag !== undefined ? ` at ${formatTag(tag)}` : ''}${offset !== undefined ? ` (byte ${offset})` : ''}`);
  }
}
