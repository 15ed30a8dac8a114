/**
 * Transfer syntaxes as WADO-RS names them: the media type of a compressed frame (PS3.18 Table
 * 8.7.3-5 ... 8.7.3-8), and which stored syntaxes Limen can turn into Explicit VR Little Endian.
 */
import { dicom } from '../../anonymizer/index.js';
import { DECODABLE_TRANSFER_SYNTAXES } from '../../pipeline/volume/index.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = dicom.EXPLICIT_VR_LITTLE_ENDIAN;

const FRAME_MEDIA_TYPES: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'image/jpeg',
  '1.2.840.10008.1.2.4.51': 'image/jpeg',
  '1.2.840.10008.1.2.4.57': 'image/jpeg',
  '1.2.840.10008.1.2.4.70': 'image/jpeg',
  '1.2.840.10008.1.2.5': 'image/dicom-rle',
  '1.2.840.10008.1.2.4.80': 'image/jls',
  '1.2.840.10008.1.2.4.81': 'image/jls',
  '1.2.840.10008.1.2.4.90': 'image/jp2',
  '1.2.840.10008.1.2.4.91': 'image/jp2',
  '1.2.840.10008.1.2.4.92': 'image/jpx',
  '1.2.840.10008.1.2.4.93': 'image/jpx',
  '1.2.840.10008.1.2.4.201': 'image/jphc',
  '1.2.840.10008.1.2.4.202': 'image/jphc',
  '1.2.840.10008.1.2.4.203': 'image/jphc',
  '1.2.840.10008.1.2.4.110': 'image/jxl',
  '1.2.840.10008.1.2.4.112': 'image/jxl',
  '1.2.840.10008.1.2.4.100': 'video/mpeg2',
  '1.2.840.10008.1.2.4.102': 'video/mp4',
};

/** True when pixel data in this syntax is encapsulated (compressed). */
export function isEncapsulated(transferSyntaxUID: string): boolean {
  return dicom.transferSyntax(transferSyntaxUID)?.encapsulated ?? false;
}

/** The media type of one compressed frame in this syntax; application/octet-stream for native ones. */
export function frameMediaType(transferSyntaxUID: string): string {
  return FRAME_MEDIA_TYPES[transferSyntaxUID] ?? 'application/octet-stream';
}

/** True when an instance stored in this syntax can be sent as Explicit VR Little Endian. */
export function canSendExplicitLittleEndian(transferSyntaxUID: string): boolean {
  return !isEncapsulated(transferSyntaxUID) || DECODABLE_TRANSFER_SYNTAXES.includes(transferSyntaxUID);
}
