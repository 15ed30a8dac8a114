/** Tags as numbers: (group << 16) | element, unsigned. */

export type Tag = number;

export const tag = (group: number, element: number): Tag => ((group << 16) | element) >>> 0;
export const groupOf = (t: Tag): number => t >>> 16;
export const elementOf = (t: Tag): number => t & 0xffff;

/** Odd groups are private (PS3.5 §7.8); groups 0001, 0003, 0005, 0007 and FFFF are not allowed at all. */
export const isPrivate = (t: Tag): boolean => (groupOf(t) & 1) === 1;
/** (gggg,0010)–(gggg,00FF) in an odd group reserve a block of private elements. */
export const isPrivateCreator = (t: Tag): boolean => isPrivate(t) && elementOf(t) >= 0x10 && elementOf(t) <= 0xff;
/** Group length elements (gggg,0000) are retired outside the command and meta groups. */
export const isGroupLength = (t: Tag): boolean => elementOf(t) === 0;

/** "(0010,0010)" */
export function formatTag(t: Tag): string {
  const h = (t >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

// Item and delimitation tags (PS3.5 §7.5).
export const ITEM = 0xfffee000;
export const ITEM_DELIMITATION = 0xfffee00d;
export const SEQUENCE_DELIMITATION = 0xfffee0dd;

/** Tags the engine names directly. */
export const T = {
  FileMetaInformationGroupLength: 0x00020000,
  FileMetaInformationVersion: 0x00020001,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  ImplementationClassUID: 0x00020012,
  ImplementationVersionName: 0x00020013,
  SpecificCharacterSet: 0x00080005,
  ImageType: 0x00080008,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  StudyTime: 0x00080030,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  ReferringPhysicianName: 0x00080090,
  StudyDescription: 0x00081030,
  SeriesDescription: 0x0008103e,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  IssuerOfPatientID: 0x00100021,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  PatientAge: 0x00101010,
  OtherPatientIDsSequence: 0x00101002,
  PatientSpeciesDescription: 0x00102201,
  PatientSpeciesCodeSequence: 0x00102202,
  PatientIdentityRemoved: 0x00120062,
  DeidentificationMethod: 0x00120063,
  DeidentificationMethodCodeSequence: 0x00120064,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  FrameOfReferenceUID: 0x00200052,
  BitsAllocated: 0x00280100,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  BurnedInAnnotation: 0x00280301,
  LongitudinalTemporalInformationModified: 0x00280303,
  CodeValue: 0x00080100,
  CodingSchemeDesignator: 0x00080102,
  CodeMeaning: 0x00080104,
  ApprovalStatus: 0x300e0002,
  PixelData: 0x7fe00010,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
} as const;
