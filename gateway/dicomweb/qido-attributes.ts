/**
 * The attributes QIDO-RS answers from Limen's index, without opening an instance: what each is
 * called, its VR, its level, how it is matched, and whether it is in the default return set of
 * PS3.18 §10.6.3.3 (Tables 10.6.3-3 to -5). Everything else an `includefield` names is read from
 * a de-identified instance of the study or series (see `qido-search.ts`).
 */

import { dicom } from '../../anonymizer/index.js';

/** The QIDO levels, outermost first. */
export type QidoLevel = 'study' | 'series' | 'instance';

/** How a matching key is compared (PS3.4 §C.2.2.2). */
export type MatchKind =
  /** Single value, or a list of UIDs separated by `,` or `\`. */
  | 'uid-list'
  /** Exact or with `*` and `?`; case-insensitive for PN. */
  | 'text'
  /** Like `text`, and a list separated by `,` or `\` matches any of them (CS values). */
  | 'code-list'
  /** A DA value or a range `a-b`, `-b`, `a-`. */
  | 'date-range'
  /** A TM value or a range. */
  | 'time-range'
  /** An integer value. */
  | 'integer';

export interface IndexedAttribute {
  keyword: string;
  tag: number;
  vr: string;
  level: QidoLevel;
  match?: MatchKind;
  /** In the default return set of its level. */
  returned: boolean;
}

const a = (keyword: string, tag: number, vr: string, level: QidoLevel, match: MatchKind | undefined, returned: boolean): IndexedAttribute =>
  ({ keyword, tag, vr, level, match, returned });

/** Every attribute the index holds or computes, by level. */
export const INDEXED_ATTRIBUTES: readonly IndexedAttribute[] = [
  a('StudyInstanceUID', 0x0020000d, 'UI', 'study', 'uid-list', true),
  a('StudyDate', 0x00080020, 'DA', 'study', 'date-range', true),
  a('StudyTime', 0x00080030, 'TM', 'study', 'time-range', true),
  a('AccessionNumber', 0x00080050, 'SH', 'study', 'text', true),
  a('InstanceAvailability', 0x00080056, 'CS', 'study', undefined, true),
  a('ModalitiesInStudy', 0x00080061, 'CS', 'study', 'code-list', true),
  a('ReferringPhysicianName', 0x00080090, 'PN', 'study', 'text', true),
  a('RetrieveURL', 0x00081190, 'UR', 'study', undefined, true),
  a('StudyDescription', 0x00081030, 'LO', 'study', 'text', true),
  a('PatientName', 0x00100010, 'PN', 'study', 'text', true),
  a('PatientID', 0x00100020, 'LO', 'study', 'text', true),
  // Returned, not matched: studies indexed before they were would drop out of a match unseen.
  a('PatientBirthDate', 0x00100030, 'DA', 'study', undefined, true),
  a('PatientSex', 0x00100040, 'CS', 'study', undefined, true),
  a('StudyID', 0x00200010, 'SH', 'study', 'text', true),
  a('NumberOfStudyRelatedSeries', 0x00201206, 'IS', 'study', undefined, true),
  a('NumberOfStudyRelatedInstances', 0x00201208, 'IS', 'study', undefined, true),

  a('Modality', 0x00080060, 'CS', 'series', 'code-list', true),
  a('SeriesDescription', 0x0008103e, 'LO', 'series', 'text', true),
  a('BodyPartExamined', 0x00180015, 'CS', 'series', 'text', true),
  a('SeriesInstanceUID', 0x0020000e, 'UI', 'series', 'uid-list', true),
  a('SeriesNumber', 0x00200011, 'IS', 'series', 'integer', true),
  a('NumberOfSeriesRelatedInstances', 0x00201209, 'IS', 'series', undefined, true),
  a('RetrieveURL', 0x00081190, 'UR', 'series', undefined, true),

  a('SOPClassUID', 0x00080016, 'UI', 'instance', 'uid-list', true),
  a('SOPInstanceUID', 0x00080018, 'UI', 'instance', 'uid-list', true),
  a('InstanceAvailability', 0x00080056, 'CS', 'instance', undefined, true),
  a('AvailableTransferSyntaxUID', 0x00083002, 'UI', 'instance', 'uid-list', true),
  a('InstanceNumber', 0x00200013, 'IS', 'instance', 'integer', true),
  a('NumberOfFrames', 0x00280008, 'IS', 'instance', 'integer', true),
  a('Rows', 0x00280010, 'US', 'instance', undefined, true),
  a('Columns', 0x00280011, 'US', 'instance', undefined, true),
  a('BitsAllocated', 0x00280100, 'US', 'instance', undefined, true),
  a('RetrieveURL', 0x00081190, 'UR', 'instance', undefined, true),
];

/** The attributes of one level, by tag. */
export function attributesOf(level: QidoLevel): Map<number, IndexedAttribute> {
  return new Map(INDEXED_ATTRIBUTES.filter((x) => x.level === level).map((x) => [x.tag, x]));
}

/** The levels whose attributes a search at `level` may match and return, outermost first. */
export function levelsOf(level: QidoLevel): QidoLevel[] {
  return level === 'study' ? ['study'] : level === 'series' ? ['study', 'series'] : ['study', 'series', 'instance'];
}

/**
 * What `includefield=all` adds at each level, read from a de-identified instance: the Patient,
 * General Study and Patient Study modules at study level, General Series and Frame of Reference
 * at series level. At instance level `all` is every top-level attribute but bulk data.
 */
export const ALL_FROM_INSTANCE: Readonly<Record<'study' | 'series', readonly number[]>> = {
  study: [
    0x00100021, // IssuerOfPatientID
    0x00100030, // PatientBirthDate
    0x00100040, // PatientSex
    0x00101010, // PatientAge
    0x00101020, // PatientSize
    0x00101030, // PatientWeight
    0x00102201, // PatientSpeciesDescription
    0x00120062, // PatientIdentityRemoved
    0x00120063, // DeidentificationMethod
    0x00120064, // DeidentificationMethodCodeSequence
    0x00080201, // TimezoneOffsetFromUTC
    0x00081060, // NameOfPhysiciansReadingStudy
    0x00081080, // AdmittingDiagnosesDescription
    0x00321060, // RequestedProcedureDescription
  ],
  series: [
    0x00080021, // SeriesDate
    0x00080031, // SeriesTime
    0x00080070, // Manufacturer
    0x00081090, // ManufacturerModelName
    0x00181030, // ProtocolName
    0x00185100, // PatientPosition
    0x00200052, // FrameOfReferenceUID
    0x00200060, // Laterality
    0x00400244, // PerformedProcedureStepStartDate
    0x00400245, // PerformedProcedureStepStartTime
    0x00400254, // PerformedProcedureStepDescription
  ],
};

/**
 * The study-level attributes (PS3.4 §C.6.1.1.2, §C.6.1.1.3, §C.6.2.1.2: the Patient, Patient Study
 * and General Study modules) a study search returns when `includefield` names them, beyond the
 * index. A study search returns no series or instance attribute (PS3.18 §10.6.3.3.1): read from
 * the study's first instance it would be one instance's value (a slice's position) given as the
 * study's.
 */
const STUDY_LEVEL_KEYWORDS = [
  'IssuerOfPatientID', 'IssuerOfPatientIDQualifiersSequence', 'PatientBirthTime', 'OtherPatientIDsSequence', 'OtherPatientNames',
  'PatientBirthName', 'PatientMotherBirthName', 'ReferencedPatientSequence', 'EthnicGroup', 'PatientComments', 'PatientAge',
  'PatientSize', 'PatientWeight', 'Occupation', 'AdditionalPatientHistory', 'MedicalAlerts', 'Allergies', 'SmokingStatus',
  'PregnancyStatus', 'LastMenstrualDate', 'PatientState', 'PatientSexNeutered', 'PatientSpeciesDescription', 'PatientSpeciesCodeSequence',
  'PatientBreedDescription', 'ResponsiblePerson', 'ResponsibleOrganization', 'QualityControlSubject', 'StrainDescription',
  'PatientIdentityRemoved', 'DeidentificationMethod', 'DeidentificationMethodCodeSequence',
  'ClinicalTrialSponsorName', 'ClinicalTrialProtocolID', 'ClinicalTrialProtocolName', 'ClinicalTrialSiteID', 'ClinicalTrialSiteName',
  'ClinicalTrialSubjectID', 'ClinicalTrialSubjectReadingID', 'ClinicalTrialTimePointID', 'ClinicalTrialTimePointDescription',
  'TimezoneOffsetFromUTC', 'IssuerOfAccessionNumberSequence', 'SOPClassesInStudy', 'AnatomicRegionsInStudyCodeSequence',
  'ReferringPhysicianIdentificationSequence', 'ConsultingPhysicianName', 'PhysiciansOfRecord', 'NameOfPhysiciansReadingStudy',
  'PhysiciansReadingStudyIdentificationSequence', 'ProcedureCodeSequence', 'ReferencedStudySequence', 'AdmittingDiagnosesDescription',
  'AdmittingDiagnosesCodeSequence', 'ReasonForPerformedProcedureCodeSequence', 'OtherStudyNumbers', 'RequestingPhysician',
  'RequestingService', 'RequestedProcedureDescription', 'RequestedProcedureCodeSequence', 'StudyComments', 'AdmissionID',
  'IssuerOfAdmissionIDSequence', 'ServiceEpisodeID', 'ReasonForVisit',
];

/**
 * The series-level attributes (PS3.4 §C.6.1.1.4: the General Series, General Equipment, Frame of
 * Reference and Clinical Trial Series modules) a series search returns when `includefield` names
 * them; study-level ones too, and no instance attribute (PS3.18 §10.6.3.3.2).
 */
const SERIES_LEVEL_KEYWORDS = [
  'SeriesDate', 'SeriesTime', 'SeriesDescriptionCodeSequence', 'PerformingPhysicianName', 'PerformingPhysicianIdentificationSequence',
  'OperatorsName', 'OperatorIdentificationSequence', 'ReferencedPerformedProcedureStepSequence', 'RelatedSeriesSequence',
  'ProtocolName', 'PatientPosition', 'Laterality', 'AnatomicalOrientationType', 'SmallestPixelValueInSeries', 'LargestPixelValueInSeries',
  'PerformedProcedureStepStartDate', 'PerformedProcedureStepStartTime', 'PerformedProcedureStepEndDate', 'PerformedProcedureStepEndTime',
  'PerformedProcedureStepID', 'PerformedProcedureStepDescription', 'PerformedProtocolCodeSequence', 'RequestAttributesSequence',
  'Manufacturer', 'ManufacturerModelName', 'InstitutionName', 'InstitutionAddress', 'StationName', 'InstitutionalDepartmentName',
  'DeviceSerialNumber', 'SoftwareVersions', 'SpatialResolution', 'DateOfLastCalibration', 'TimeOfLastCalibration', 'PixelPaddingValue',
  'FrameOfReferenceUID', 'PositionReferenceIndicator', 'ClinicalTrialCoordinatingCenterName', 'ClinicalTrialSeriesID',
  'ClinicalTrialSeriesDescription',
];

const tagsOf = (keywords: readonly string[], also: readonly number[]): ReadonlySet<number> =>
  new Set([...keywords.map((k) => dicom.tagOfKeyword(k)).filter((t): t is number => t !== undefined), ...also]);
const STUDY_LEVEL_TAGS = tagsOf(STUDY_LEVEL_KEYWORDS, ALL_FROM_INSTANCE.study);
const SERIES_LEVEL_TAGS = tagsOf(SERIES_LEVEL_KEYWORDS, ALL_FROM_INSTANCE.series);

/**
 * True when a search at `level` may return the attribute `tag` that the index does not hold, as
 * read from an instance: any at instance level; at study level a study-level one, at series level
 * a study- or series-level one.
 */
export function returnableAt(level: QidoLevel, tag: number): boolean {
  if (level === 'instance') return true;
  return STUDY_LEVEL_TAGS.has(tag) || (level === 'series' && SERIES_LEVEL_TAGS.has(tag));
}
