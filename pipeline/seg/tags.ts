/**
 * The tags the SEG writer and reader name, with their keywords as PS3.6 spells them (a test checks
 * each against the data dictionary).
 */
export const TAG = {
  SpecificCharacterSet: 0x00080005, // CS
  ImageType: 0x00080008, // CS
  InstanceCreationDate: 0x00080012, // DA
  InstanceCreationTime: 0x00080013, // TM
  SOPClassUID: 0x00080016, // UI
  SOPInstanceUID: 0x00080018, // UI
  StudyDate: 0x00080020, // DA
  SeriesDate: 0x00080021, // DA
  ContentDate: 0x00080023, // DA
  StudyTime: 0x00080030, // TM
  SeriesTime: 0x00080031, // TM
  ContentTime: 0x00080033, // TM
  AccessionNumber: 0x00080050, // SH
  Modality: 0x00080060, // CS
  Manufacturer: 0x00080070, // LO
  ReferringPhysicianName: 0x00080090, // PN
  TimezoneOffsetFromUTC: 0x00080201, // SH
  CodeValue: 0x00080100, // SH
  CodingSchemeDesignator: 0x00080102, // SH
  CodeMeaning: 0x00080104, // LO
  LongCodeValue: 0x00080119, // UC
  SeriesDescription: 0x0008103e, // LO
  ManufacturerModelName: 0x00081090, // LO
  ReferencedSeriesSequence: 0x00081115, // SQ
  ReferencedInstanceSequence: 0x0008114a, // SQ
  ReferencedSOPClassUID: 0x00081150, // UI
  ReferencedSOPInstanceUID: 0x00081155, // UI
  ReferencedFrameNumber: 0x00081160, // IS
  SourceImageSequence: 0x00082112, // SQ
  AnatomicRegionSequence: 0x00082218, // SQ
  DerivationImageSequence: 0x00089124, // SQ
  DerivationCodeSequence: 0x00089215, // SQ
  PatientName: 0x00100010, // PN
  PatientID: 0x00100020, // LO
  PatientBirthDate: 0x00100030, // DA
  PatientSex: 0x00100040, // CS
  SliceThickness: 0x00180050, // DS
  SpacingBetweenSlices: 0x00180088, // DS
  DeviceSerialNumber: 0x00181000, // LO
  SoftwareVersions: 0x00181020, // LO
  StudyInstanceUID: 0x0020000d, // UI
  SeriesInstanceUID: 0x0020000e, // UI
  StudyID: 0x00200010, // SH
  SeriesNumber: 0x00200011, // IS
  InstanceNumber: 0x00200013, // IS
  ImagePositionPatient: 0x00200032, // DS
  ImageOrientationPatient: 0x00200037, // DS
  FrameOfReferenceUID: 0x00200052, // UI
  PositionReferenceIndicator: 0x00201040, // LO
  FrameContentSequence: 0x00209111, // SQ
  PlanePositionSequence: 0x00209113, // SQ
  PlaneOrientationSequence: 0x00209116, // SQ
  DimensionIndexValues: 0x00209157, // UL
  DimensionOrganizationUID: 0x00209164, // UI
  DimensionIndexPointer: 0x00209165, // AT
  FunctionalGroupPointer: 0x00209167, // AT
  DimensionOrganizationSequence: 0x00209221, // SQ
  DimensionIndexSequence: 0x00209222, // SQ
  DimensionDescriptionLabel: 0x00209421, // LO
  SamplesPerPixel: 0x00280002, // US
  PhotometricInterpretation: 0x00280004, // CS
  NumberOfFrames: 0x00280008, // IS
  Rows: 0x00280010, // US
  Columns: 0x00280011, // US
  PixelSpacing: 0x00280030, // DS
  BitsAllocated: 0x00280100, // US
  BitsStored: 0x00280101, // US
  HighBit: 0x00280102, // US
  PixelRepresentation: 0x00280103, // US
  SpatialLocationsPreserved: 0x0028135a, // CS
  LossyImageCompression: 0x00282110, // CS
  PixelMeasuresSequence: 0x00289110, // SQ
  PurposeOfReferenceCodeSequence: 0x0040a170, // SQ
  SegmentationType: 0x00620001, // CS
  SegmentSequence: 0x00620002, // SQ
  SegmentedPropertyCategoryCodeSequence: 0x00620003, // SQ
  SegmentNumber: 0x00620004, // US
  SegmentLabel: 0x00620005, // LO
  SegmentDescription: 0x00620006, // ST
  SegmentationAlgorithmIdentificationSequence: 0x00620007, // SQ
  SegmentAlgorithmType: 0x00620008, // CS
  SegmentAlgorithmName: 0x00620009, // LO
  SegmentIdentificationSequence: 0x0062000a, // SQ
  ReferencedSegmentNumber: 0x0062000b, // US
  RecommendedDisplayCIELabValue: 0x0062000d, // US
  SegmentedPropertyTypeCodeSequence: 0x0062000f, // SQ
  SegmentedPropertyTypeModifierCodeSequence: 0x00620011, // SQ
  SegmentsOverlap: 0x00620013, // CS
  MaximumFractionalValue: 0x0062000e, // US
  SegmentationFractionalType: 0x00620010, // CS
  AlgorithmFamilyCodeSequence: 0x0066002f, // SQ
  AlgorithmVersion: 0x00660031, // LO
  AlgorithmParameters: 0x00660032, // LT
  AlgorithmSource: 0x00240202, // LO
  AlgorithmName: 0x00660036, // LO
  ContentLabel: 0x00700080, // CS
  ContentDescription: 0x00700081, // LO
  ContentCreatorName: 0x00700084, // PN
  SharedFunctionalGroupsSequence: 0x52009229, // SQ
  PerFrameFunctionalGroupsSequence: 0x52009230, // SQ
  PixelData: 0x7fe00010, // OB|OW (written as OB)
} as const;

/** Segmentation Storage (PS3.4 B.5). */
export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';
/** Explicit VR Little Endian, the encoding of every SEG written here. */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
