/** What the SEG writer takes and gives back. */
import type { dicom } from '../../anonymizer/index.js';
import type { CtVolume, LabelMap } from '../volume/types.js';

/** A coded concept (PS3.3 Table 8.8-1): CodeValue, CodingSchemeDesignator, CodeMeaning. */
export interface CodedConcept {
  value: string;
  scheme: string;
  meaning: string;
}

/** One label of the label map, as the SEG describes it (PS3.3 C.8.20.2, Segment Description Macro). */
export interface SegmentDescription {
  /** The label map value this segment is made of (1..255). */
  labelId: number;
  /**
   * Other labels this segment encloses (a body contains its bones): their voxels belong to it too,
   * and the SEG then declares that its segments overlap.
   */
  contains?: readonly number[];
  /** SegmentLabel (LO). */
  label: string;
  /** SegmentDescription (ST), optional. */
  description?: string;
  /** SegmentedPropertyCategoryCodeSequence: SNOMED CT, e.g. (91723000, SCT, "Anatomical Structure"). */
  category: CodedConcept;
  /** SegmentedPropertyTypeCodeSequence: SNOMED CT, e.g. (272673000, SCT, "Bone"). */
  type: CodedConcept;
  /** SegmentedPropertyTypeModifierCodeSequence, e.g. laterality. */
  typeModifier?: CodedConcept;
  /** AnatomicRegionSequence, optional. */
  anatomicRegion?: CodedConcept;
  /** Display colour as sRGB 0..255; converted to RecommendedDisplayCIELabValue. */
  rgb?: [number, number, number];
  /** RecommendedDisplayCIELabValue as DICOM scales it (0..65535 each); wins over `rgb`. */
  cieLab?: [number, number, number];
}

/** The algorithm that made every segment (Algorithm Identification Macro, PS3.3 Table 10-19). */
export interface AlgorithmIdentification {
  /** AlgorithmName, also written as each segment's SegmentAlgorithmName. */
  name: string;
  version: string;
  /** AlgorithmFamilyCodeSequence, e.g. (123110, DCM, "Artificial Intelligence"). */
  family: CodedConcept;
  /** AlgorithmSource, optional (who made it). */
  source?: string;
  /** AlgorithmParameters, optional (LT). */
  parameters?: string;
}

/** Enhanced General Equipment Module: all four are Type 1 in a SEG. */
export interface Equipment {
  manufacturer: string;
  modelName: string;
  deviceSerialNumber: string;
  softwareVersions: string | string[];
}

/**
 * The de-identified patient and study attributes the SEG repeats from its source, as text.
 * Absent ones are written empty (they are Type 2).
 */
export interface PatientStudyValues {
  patientName?: string;
  patientID?: string;
  patientBirthDate?: string;
  patientSex?: string;
  studyDate?: string;
  studyTime?: string;
  referringPhysicianName?: string;
  studyID?: string;
  accessionNumber?: string;
}

/** The source CT as the SEG references it; a CtVolume fits as it is. */
export type SegmentationSource = Pick<CtVolume, 'studyInstanceUID' | 'seriesInstanceUID' | 'frameOfReferenceUID' | 'sources'>;

/** Everything `writeSegmentation` needs. The SEG's geometry is the label map's. */
export interface SegmentationInput {
  /** Labels on the source CT's grid: slice z of the map is `source.sources[z]`. */
  labelMap: LabelMap;
  source: SegmentationSource;
  /**
   * The source series' de-identified Patient and General Study attributes: either elements as
   * read from one source instance (only PatientName, PatientID, PatientBirthDate, PatientSex,
   * StudyDate, StudyTime, ReferringPhysicianName, StudyID, AccessionNumber and the
   * SpecificCharacterSet are taken, byte for byte), or their values as text.
   */
  patientStudy: dicom.Element[] | PatientStudyValues;
  /** In the order they are numbered; a segment with no voxel is left out (see the result). */
  segments: SegmentDescription[];
  algorithm: AlgorithmIdentification;
  equipment: Equipment;
  /** ContentCreatorName (PN, Type 2: may be empty). */
  contentCreatorName: string;
  /** ContentLabel (CS: A–Z, 0–9, space, underscore, at most 16). Default "SEGMENTATION". */
  contentLabel?: string;
  /** ContentDescription (LO). */
  contentDescription?: string;
  seriesNumber: number;
  seriesDescription?: string;
  /** Default 1. */
  instanceNumber?: number;
  /** New UIDs (series, instance, dimension organization) come from here; the caller decides how. */
  newUID: () => string;
  /** Override the generated SeriesInstanceUID / SOPInstanceUID. */
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  /**
   * Content date and time (also the series' and the instance's creation), written at the
   * source's TimezoneOffsetFromUTC (see write.ts). Default: the source data set's own date and
   * time, so a SEG of de-identified data carries no real date (see `sourceDateTime`); now when
   * the patient and study come as values.
   */
  contentDateTime?: Date;
  /** Nominal SliceThickness of the frames in mm. Default: the slice spacing. */
  sliceThickness?: number;
  /** ImplementationClassUID / ImplementationVersionName of the file meta. Default: Limen's. */
  implementation?: { classUID: string; versionName: string };
}

/** One segment as written. */
export interface WrittenSegment {
  segmentNumber: number;
  labelId: number;
  label: string;
  /** Frames (slices with at least one voxel). */
  frames: number;
  voxels: number;
}

/** What `writeSegmentation` returns. */
export interface WrittenSegmentation {
  /** The Part 10 file, Explicit VR Little Endian. */
  bytes: Uint8Array;
  sopInstanceUID: string;
  seriesInstanceUID: string;
  /** BINARY, or FRACTIONAL (0 or 255 per pixel) when 1-bit frames would not start on byte boundaries. */
  segmentationType: 'BINARY' | 'FRACTIONAL';
  numberOfFrames: number;
  segments: WrittenSegment[];
  /** Described labels that have no voxel, so no segment. */
  omittedLabelIds: number[];
}
