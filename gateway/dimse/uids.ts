/**
 * The UIDs the DIMSE service negotiates with (PS3.6 Annex A). Transfer syntaxes are
 * accepted as they are: Limen never transcodes what a modality sends.
 */
import { dicom } from '../../anonymizer/index.js';

/** Transfer syntax UIDs by name. */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/**
 * Accepted by default. Which one a context gets is the requestor's choice: its first
 * acceptable lossless proposal (see negotiation.ts).
 */
export const DEFAULT_ACCEPTED_TRANSFER_SYNTAXES: readonly string[] = Object.freeze(Object.values(TransferSyntax));

/**
 * Syntaxes whose pixel data may have lost information (PS3.5 Section 8.2): JPEG baseline and
 * extended, JPEG-LS near-lossless, and JPEG 2000, which allows either.
 */
export const MAY_BE_LOSSY_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  TransferSyntax.JPEGBaseline8Bit,
  TransferSyntax.JPEGExtended12Bit,
  TransferSyntax.JPEGLSNearLossless,
  TransferSyntax.JPEG2000,
]);

/** Verification SOP Class (C-ECHO), always accepted. */
export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';

/** C-ECHO carries no data set; any uncompressed transfer syntax will do. */
export const VERIFICATION_TRANSFER_SYNTAXES: readonly string[] = Object.freeze([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
]);

/** Storage SOP Classes a CT route typically accepts. */
export const StorageSopClass = {
  CTImage: '1.2.840.10008.5.1.4.1.1.2',
  EnhancedCTImage: '1.2.840.10008.5.1.4.1.1.2.1',
  LegacyConvertedEnhancedCTImage: '1.2.840.10008.5.1.4.1.1.2.2',
  MRImage: '1.2.840.10008.5.1.4.1.1.4',
  SecondaryCaptureImage: '1.2.840.10008.5.1.4.1.1.7',
  Segmentation: '1.2.840.10008.5.1.4.1.1.66.4',
} as const;

/** PS3.6 names of the storage SOP Classes above, for messages. */
const STORAGE_SOP_CLASS_NAMES: Readonly<Record<string, string>> = {
  [StorageSopClass.CTImage]: 'CT Image Storage',
  [StorageSopClass.EnhancedCTImage]: 'Enhanced CT Image Storage',
  [StorageSopClass.LegacyConvertedEnhancedCTImage]: 'Legacy Converted Enhanced CT Image Storage',
  [StorageSopClass.MRImage]: 'MR Image Storage',
  [StorageSopClass.SecondaryCaptureImage]: 'Secondary Capture Image Storage',
  [StorageSopClass.Segmentation]: 'Segmentation Storage',
};

/** A SOP Class for messages: its name and UID when the name is known, else the UID. */
export function sopClassLabel(uid: string): string {
  const name = STORAGE_SOP_CLASS_NAMES[uid];
  return name ? `${name} (${uid})` : uid;
}

/** A transfer syntax for messages: its name when known, else its UID. */
export function transferSyntaxLabel(uid: string): string {
  return dicom.transferSyntax(uid)?.name ?? uid;
}
