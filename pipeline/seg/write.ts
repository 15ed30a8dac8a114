/**
 * Writes a label map as a DICOM Segmentation (PS3.3 A.51), one frame per segment and slice that
 * holds any of the segment's voxels, frames ordered by segment then along the slice direction,
 * Explicit VR Little Endian.
 *
 * BINARY (1 bit per pixel) when Rows × Columns is a multiple of 8, as for every 512 × 512 CT.
 * Otherwise 1-bit frames would start mid-byte, which the standard allows but OHIF 3.13, Weasis and
 * older pydicom decode wrong (the overlay the radiologist reviews would not be the SEG): the SEG is
 * then FRACTIONAL (PS3.3 C.8.20.2), 8 bits per pixel, OCCUPANCY with MaximumFractionalValue 255 and
 * only the values 0 and 255, so every frame is whole bytes and still holds exactly the same mask.
 * Those matrices are small (the ct-fakephi test series is 101 × 122); the cost is 8 times the bytes.
 *
 * Every UID that points outside the SEG sits in one of these places, which is where the exporter's
 * re-identification (`remapReferences`) finds them:
 * - StudyInstanceUID and FrameOfReferenceUID, top level;
 * - ReferencedSeriesSequence > SeriesInstanceUID, and > ReferencedInstanceSequence >
 *   ReferencedSOPClassUID / ReferencedSOPInstanceUID;
 * - PerFrameFunctionalGroupsSequence > DerivationImageSequence > SourceImageSequence >
 *   ReferencedSOPClassUID / ReferencedSOPInstanceUID (ReferencedFrameNumber for multi-frame CT).
 * The SEG's own UIDs are SeriesInstanceUID, SOPInstanceUID (also MediaStorageSOPInstanceUID) and
 * the DimensionOrganizationUID.
 */
import { dicom, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../anonymizer/index.js';
import { byteFrames, framesAreByteAligned, packFrames } from './bits.js';
import { slicesWith, takeCensus } from './census.js';
import { srgbToDicomLab } from './cielab.js';
import { ascii, at, codeItem, codeSequence, ds, is, sq, text, ul, us } from './elements.js';
import { SegError } from './errors.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, SEGMENTATION_STORAGE, TAG } from './tags.js';
import { chooseEncoding, type TextEncoding } from './text.js';
import type { CodedConcept, PatientStudyValues, SegmentDescription, SegmentationInput, WrittenSegment, WrittenSegmentation } from './types.js';
import { newUIDFrom, validateInput } from './validate.js';

type Element = dicom.Element;

const PURPOSE_SOURCE_IMAGE: CodedConcept = { value: '121322', scheme: 'DCM', meaning: 'Source image for image processing operation' };
const DERIVATION_SEGMENTATION: CodedConcept = { value: '113076', scheme: 'DCM', meaning: 'Segmentation' };

/** One frame of the SEG: which segment, and which slice of the label map. */
interface Frame {
  segmentNumber: number;
  labelId: number;
  z: number;
  members: Uint8Array;
}

/**
 * Builds the SEG. Throws a SegError: 'invalid-input' (with a path), 'unknown-label' when the map
 * holds a value no segment describes, 'empty-segmentation' when no described label has a voxel.
 */
export function writeSegmentation(input: SegmentationInput): WrittenSegmentation {
  validateInput(input);
  const map = input.labelMap;
  const [columns, rows, slices] = map.dims;
  const plane = columns * rows;
  const census = takeCensus(map.labels, plane, slices);

  const described = new Set(input.segments.map((s) => s.labelId));
  const unknown: number[] = [];
  for (let label = 1; label < 256; label++) if (census.voxels[label] > 0 && !described.has(label)) unknown.push(label);
  if (unknown.length > 0) {
    throw new SegError('unknown-label', `the label map holds value(s) ${unknown.join(', ')} that no segment describes`, { path: 'labelMap.labels' });
  }
  // A segment is its own label and those it contains: its voxels, slices and frames are theirs together.
  const labelsOf = (s: SegmentDescription): number[] => [s.labelId, ...(s.contains ?? [])];
  const voxelsOf = (s: SegmentDescription): number => labelsOf(s).reduce((n, label) => n + census.voxels[label], 0);
  const kept = input.segments.filter((s) => voxelsOf(s) > 0);
  const omittedLabelIds = input.segments.filter((s) => voxelsOf(s) === 0).map((s) => s.labelId);
  if (kept.length === 0) throw new SegError('empty-segmentation', 'no segment has any voxel: there is nothing to write', { path: 'labelMap.labels' });
  // Overlap: a kept segment contains a label that has voxels.
  const overlap = kept.some((s) => (s.contains ?? []).some((label) => census.voxels[label] > 0));

  const frames: Frame[] = [];
  const written: WrittenSegment[] = kept.map((s, i) => {
    const own = labelsOf(s);
    const members = new Uint8Array(256);
    for (const label of own) members[label] = 1;
    const zs = [...new Set(own.flatMap((label) => slicesWith(census, label)))].sort((a, b) => a - b);
    for (const z of zs) frames.push({ segmentNumber: i + 1, labelId: s.labelId, z, members });
    return { segmentNumber: i + 1, labelId: s.labelId, label: s.label, frames: zs.length, voxels: voxelsOf(s) };
  });
  const segmentationType = segmentationTypeFor(rows, columns);
  const pixelData = segmentationType === 'BINARY' ? packFrames(map.labels, plane, frames) : byteFrames(map.labels, plane, frames, MAXIMUM_FRACTIONAL_VALUE);
  const bits = BITS_ALLOCATED[segmentationType];

  const given = input.patientStudy;
  const declared = Array.isArray(given) ? dicom.stringOf(dicom.find(given, TAG.SpecificCharacterSet)) : undefined;
  const enc = chooseEncoding(declared, ownTexts(input));
  const seriesInstanceUID = input.seriesInstanceUID ?? newUIDFrom(input.newUID, 'SeriesInstanceUID');
  const sopInstanceUID = input.sopInstanceUID ?? newUIDFrom(input.newUID, 'SOPInstanceUID');
  const dimensionOrganizationUID = newUIDFrom(input.newUID, 'DimensionOrganizationUID');
  const offset = timezoneOffset(given);
  const { date, time } = input.contentDateTime ? dicomDateTime(input.contentDateTime, offset) : sourceDateTime(given) ?? dicomDateTime(new Date(), offset);
  const eq = input.equipment;
  const versions = typeof eq.softwareVersions === 'string' ? [eq.softwareVersions] : eq.softwareVersions;

  const dataset: Element[] = [
    ...(enc.specificCharacterSet ? [ascii(TAG.SpecificCharacterSet, 'CS', enc.specificCharacterSet)] : []),
    ...patientStudyElements(input, enc),
    ascii(TAG.ImageType, 'CS', 'DERIVED\\PRIMARY'),
    ascii(TAG.InstanceCreationDate, 'DA', date),
    ascii(TAG.InstanceCreationTime, 'TM', time),
    ascii(TAG.SOPClassUID, 'UI', SEGMENTATION_STORAGE),
    ascii(TAG.SOPInstanceUID, 'UI', sopInstanceUID),
    ascii(TAG.SeriesDate, 'DA', date),
    ascii(TAG.ContentDate, 'DA', date),
    ascii(TAG.SeriesTime, 'TM', time),
    ascii(TAG.ContentTime, 'TM', time),
    ascii(TAG.Modality, 'CS', 'SEG'),
    text(TAG.Manufacturer, 'LO', eq.manufacturer, enc),
    ...(offset !== null ? [text(TAG.TimezoneOffsetFromUTC, 'SH', offset, enc)] : []),
    ...(input.seriesDescription !== undefined ? [text(TAG.SeriesDescription, 'LO', input.seriesDescription, enc)] : []),
    text(TAG.ManufacturerModelName, 'LO', eq.modelName, enc),
    referencedSeries(input),
    text(TAG.DeviceSerialNumber, 'LO', eq.deviceSerialNumber, enc),
    text(TAG.SoftwareVersions, 'LO', versions.join('\\'), enc),
    ascii(TAG.StudyInstanceUID, 'UI', input.source.studyInstanceUID),
    ascii(TAG.SeriesInstanceUID, 'UI', seriesInstanceUID),
    is(TAG.SeriesNumber, input.seriesNumber),
    is(TAG.InstanceNumber, input.instanceNumber ?? 1),
    ascii(TAG.FrameOfReferenceUID, 'UI', input.source.frameOfReferenceUID),
    ascii(TAG.PositionReferenceIndicator, 'LO', ''),
    sq(TAG.DimensionOrganizationSequence, [ascii(TAG.DimensionOrganizationUID, 'UI', dimensionOrganizationUID)]),
    dimensionIndexSequence(dimensionOrganizationUID, enc),
    us(TAG.SamplesPerPixel, 1),
    ascii(TAG.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
    is(TAG.NumberOfFrames, frames.length),
    us(TAG.Rows, rows),
    us(TAG.Columns, columns),
    us(TAG.BitsAllocated, bits),
    us(TAG.BitsStored, bits),
    us(TAG.HighBit, bits - 1),
    us(TAG.PixelRepresentation, 0),
    ascii(TAG.LossyImageCompression, 'CS', '00'),
    ascii(TAG.SegmentationType, 'CS', segmentationType),
    sq(TAG.SegmentSequence, ...kept.map((s, i) => segmentItem(s, i + 1, input, enc))),
    ...(segmentationType === 'FRACTIONAL'
      ? [us(TAG.MaximumFractionalValue, MAXIMUM_FRACTIONAL_VALUE), ascii(TAG.SegmentationFractionalType, 'CS', 'OCCUPANCY')]
      : []),
    // One label map holds one label per voxel: segments overlap only where one contains another's label.
    ascii(TAG.SegmentsOverlap, 'CS', overlap ? 'YES' : 'NO'),
    ascii(TAG.ContentLabel, 'CS', input.contentLabel ?? 'SEGMENTATION'),
    text(TAG.ContentDescription, 'LO', input.contentDescription ?? '', enc),
    text(TAG.ContentCreatorName, 'PN', input.contentCreatorName, enc),
    sharedFunctionalGroups(input),
    perFrameFunctionalGroups(input, frames, enc),
    dicom.valueElement(TAG.PixelData, 'OB', pixelData),
  ];

  const implementation = input.implementation ?? { classUID: IMPLEMENTATION_CLASS_UID, versionName: IMPLEMENTATION_VERSION_NAME };
  const bytes = dicom.writePart10(
    {
      mediaStorageSOPClassUID: SEGMENTATION_STORAGE,
      mediaStorageSOPInstanceUID: sopInstanceUID,
      transferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      implementationClassUID: implementation.classUID,
      implementationVersionName: implementation.versionName,
    },
    dataset,
  );
  return { bytes, sopInstanceUID, seriesInstanceUID, segmentationType, numberOfFrames: frames.length, segments: written, omittedLabelIds };
}

/** A FRACTIONAL SEG's value for a pixel inside the segment (0 outside): the whole pixel. */
export const MAXIMUM_FRACTIONAL_VALUE = 255;

/**
 * BINARY when every 1-bit frame starts on a byte boundary (Rows × Columns a multiple of 8),
 * FRACTIONAL (8 bits, values 0 and 255) otherwise: see the top of this file.
 */
/** Bits a pixel of each SegmentationType takes (BitsAllocated). */
export const BITS_ALLOCATED = { BINARY: 1, FRACTIONAL: 8 } as const;

export function segmentationTypeFor(rows: number, columns: number): 'BINARY' | 'FRACTIONAL' {
  return framesAreByteAligned(rows * columns) ? 'BINARY' : 'FRACTIONAL';
}

/** The Patient and General Study attributes, with their PS3.6 VRs. */
const PATIENT_STUDY: ReadonlyArray<[keyof PatientStudyValues, number, dicom.VR]> = [
  ['patientName', TAG.PatientName, 'PN'],
  ['patientID', TAG.PatientID, 'LO'],
  ['patientBirthDate', TAG.PatientBirthDate, 'DA'],
  ['patientSex', TAG.PatientSex, 'CS'],
  ['studyDate', TAG.StudyDate, 'DA'],
  ['studyTime', TAG.StudyTime, 'TM'],
  ['referringPhysicianName', TAG.ReferringPhysicianName, 'PN'],
  ['studyID', TAG.StudyID, 'SH'],
  ['accessionNumber', TAG.AccessionNumber, 'SH'],
];

/**
 * Copied byte for byte from source elements (transcoded when the SEG had to leave the source's
 * character set for UTF-8), or encoded from text; absent ones are empty (Type 2).
 */
function patientStudyElements(input: SegmentationInput, enc: TextEncoding): Element[] {
  const given = input.patientStudy;
  if (!Array.isArray(given)) return PATIENT_STUDY.map(([key, tag, vr]) => dicom.valueElement(tag, vr, enc.encode(given[key] ?? '')));
  const study = dicom.stringOf(dicom.find(given, TAG.StudyInstanceUID));
  if (study !== undefined && study !== input.source.studyInstanceUID) {
    throw new SegError('invalid-input', 'the given patient/study attributes belong to another StudyInstanceUID than the source', { path: 'patientStudy' });
  }
  const declared = dicom.stringOf(dicom.find(given, TAG.SpecificCharacterSet)) ?? '';
  const transcode = (enc.specificCharacterSet ?? '') !== declared ? dicom.decodingOf(given) : undefined;
  const copied = PATIENT_STUDY.map(([, tag, vr]) => {
    const value = dicom.find(given, tag)?.value ?? new Uint8Array(0);
    return dicom.valueElement(tag, vr, transcode && value.length > 0 ? enc.encode(transcode.decode(value, vr === 'PN').replace(/[\0 ]+$/, '')) : value);
  });
  // A SEG of de-identified data says so as its source does (PS3.3 C.7.1.1, C.7.6.1.1.7).
  const marks = DEIDENTIFICATION_MARKS.map((tag) => dicom.find(given, tag)).filter((el): el is Element => el !== undefined);
  return [...copied, ...marks];
}

/** Patient Identity Removed, De-identification Method and its Code Sequence, Longitudinal Temporal Information Modified. */
export const DEIDENTIFICATION_MARKS: readonly number[] = [0x00120062, 0x00120063, 0x00120064, 0x00280303];

/** Every text the SEG writes itself, which the character set must hold. */
function ownTexts(input: SegmentationInput): string[] {
  const codes = (c: CodedConcept | undefined): string[] => (c ? [c.value, c.scheme, c.meaning] : []);
  const out: string[] = [
    input.algorithm.name, input.algorithm.version, input.algorithm.source ?? '', input.algorithm.parameters ?? '', ...codes(input.algorithm.family),
    input.equipment.manufacturer, input.equipment.modelName, input.equipment.deviceSerialNumber,
    ...(typeof input.equipment.softwareVersions === 'string' ? [input.equipment.softwareVersions] : input.equipment.softwareVersions),
    input.contentCreatorName, input.contentDescription ?? '', input.seriesDescription ?? '',
  ];
  for (const s of input.segments) {
    out.push(s.label, s.description ?? '', ...codes(s.category), ...codes(s.type), ...codes(s.typeModifier), ...codes(s.anatomicRegion));
  }
  if (!Array.isArray(input.patientStudy)) out.push(...Object.values(input.patientStudy).filter((v): v is string => typeof v === 'string'));
  return out;
}

function referencedSeries(input: SegmentationInput): Element {
  const instances: Element[][] = [];
  const seen = new Set<string>();
  for (const s of input.source.sources) {
    if (seen.has(s.sopInstanceUID)) continue;
    seen.add(s.sopInstanceUID);
    instances.push([ascii(TAG.ReferencedSOPClassUID, 'UI', s.sopClassUID), ascii(TAG.ReferencedSOPInstanceUID, 'UI', s.sopInstanceUID)]);
  }
  return sq(TAG.ReferencedSeriesSequence, [
    sq(TAG.ReferencedInstanceSequence, ...instances),
    ascii(TAG.SeriesInstanceUID, 'UI', input.source.seriesInstanceUID),
  ]);
}

/** Frames are indexed by segment, then by position, as dcmqi and highdicom index them. */
function dimensionIndexSequence(organizationUID: string, enc: TextEncoding): Element {
  const item = (pointer: number, group: number, label: string): Element[] => [
    ascii(TAG.DimensionOrganizationUID, 'UI', organizationUID),
    at(TAG.DimensionIndexPointer, pointer),
    at(TAG.FunctionalGroupPointer, group),
    text(TAG.DimensionDescriptionLabel, 'LO', label, enc),
  ];
  return sq(
    TAG.DimensionIndexSequence,
    item(TAG.ReferencedSegmentNumber, TAG.SegmentIdentificationSequence, 'Segment Number'),
    item(TAG.ImagePositionPatient, TAG.PlanePositionSequence, 'Image Position Patient'),
  );
}

function segmentItem(s: SegmentDescription, segmentNumber: number, input: SegmentationInput, enc: TextEncoding): Element[] {
  const a = input.algorithm;
  const algorithm: Element[] = [
    codeSequence(TAG.AlgorithmFamilyCodeSequence, a.family, enc),
    text(TAG.AlgorithmVersion, 'LO', a.version, enc),
    text(TAG.AlgorithmName, 'LO', a.name, enc),
    ...(a.parameters !== undefined ? [text(TAG.AlgorithmParameters, 'LT', a.parameters, enc)] : []),
    ...(a.source !== undefined ? [text(TAG.AlgorithmSource, 'LO', a.source, enc)] : []),
  ];
  const lab = s.cieLab ?? (s.rgb ? srgbToDicomLab(s.rgb) : undefined);
  return [
    ...(s.anatomicRegion ? [codeSequence(TAG.AnatomicRegionSequence, s.anatomicRegion, enc)] : []),
    codeSequence(TAG.SegmentedPropertyCategoryCodeSequence, s.category, enc),
    us(TAG.SegmentNumber, segmentNumber),
    text(TAG.SegmentLabel, 'LO', s.label, enc),
    ...(s.description !== undefined ? [text(TAG.SegmentDescription, 'ST', s.description, enc)] : []),
    sq(TAG.SegmentationAlgorithmIdentificationSequence, algorithm),
    ascii(TAG.SegmentAlgorithmType, 'CS', 'AUTOMATIC'),
    text(TAG.SegmentAlgorithmName, 'LO', a.name, enc),
    ...(lab ? [us(TAG.RecommendedDisplayCIELabValue, ...lab)] : []),
    // The modifier qualifies the type, inside its item (Segment Description Macro, PS3.3 Table 10-23).
    sq(TAG.SegmentedPropertyTypeCodeSequence, [...codeItem(s.type, enc), ...(s.typeModifier ? [codeSequence(TAG.SegmentedPropertyTypeModifierCodeSequence, s.typeModifier, enc)] : [])]),
  ];
}

function sharedFunctionalGroups(input: SegmentationInput): Element {
  const m = input.labelMap;
  return sq(TAG.SharedFunctionalGroupsSequence, [
    sq(TAG.PlaneOrientationSequence, [ds(TAG.ImageOrientationPatient, ...m.rowDirection, ...m.columnDirection)]),
    sq(TAG.PixelMeasuresSequence, [
      ds(TAG.SliceThickness, input.sliceThickness ?? m.spacing[2]),
      ds(TAG.SpacingBetweenSlices, m.spacing[2]),
      // PixelSpacing is row spacing (between rows), then column spacing.
      ds(TAG.PixelSpacing, m.spacing[1], m.spacing[0]),
    ]),
  ]);
}

function perFrameFunctionalGroups(input: SegmentationInput, frames: Frame[], enc: TextEncoding): Element {
  // Position indices count the distinct slices that have frames, in slice order (from 1).
  const used = [...new Set(frames.map((f) => f.z))].sort((a, b) => a - b);
  const positionIndex = new Map(used.map((z, i) => [z, i + 1]));
  const purpose = codeSequence(TAG.PurposeOfReferenceCodeSequence, PURPOSE_SOURCE_IMAGE, enc);
  const derivationCode = codeSequence(TAG.DerivationCodeSequence, DERIVATION_SEGMENTATION, enc);
  const items = frames.map((f): Element[] => {
    const source = input.source.sources[f.z];
    const sourceImage: Element[] = [
      ascii(TAG.ReferencedSOPClassUID, 'UI', source.sopClassUID),
      ascii(TAG.ReferencedSOPInstanceUID, 'UI', source.sopInstanceUID),
      ...(source.frameNumber !== undefined ? [is(TAG.ReferencedFrameNumber, source.frameNumber)] : []),
      ascii(TAG.SpatialLocationsPreserved, 'CS', 'YES'),
      purpose,
    ];
    return [
      sq(TAG.DerivationImageSequence, [sq(TAG.SourceImageSequence, sourceImage), derivationCode]),
      sq(TAG.FrameContentSequence, [ul(TAG.DimensionIndexValues, f.segmentNumber, positionIndex.get(f.z)!)]),
      sq(TAG.PlanePositionSequence, [ds(TAG.ImagePositionPatient, ...source.position)]),
      sq(TAG.SegmentIdentificationSequence, [us(TAG.ReferencedSegmentNumber, f.segmentNumber)]),
    ];
  });
  return sq(TAG.PerFrameFunctionalGroupsSequence, ...items);
}

/**
 * The offset the SEG's dates and times are in (PS3.3 C.12.1: Timezone Offset From UTC covers every
 * DA and TM of the instance, the study's copied ones included): the source's, when it declares one;
 * none when it does not (its times are local), so the SEG's own are then written in local time too;
 * UTC for values given without a source data set.
 */
export function timezoneOffset(given: SegmentationInput['patientStudy']): string | null {
  if (!Array.isArray(given)) return '+0000';
  const declared = dicom.stringOf(dicom.find(given, TAG.TimezoneOffsetFromUTC))?.trim();
  return declared && /^[+-](0\d|1[0-4])[0-5]\d$/.test(declared) ? declared : null;
}

/**
 * The SEG's own dates when none is given and the source is a data set: the source's (Content,
 * then Series, then Study Date, with its time), so that a SEG made on de-identified data stays in
 * that data's time, shifted or emptied by the profile. A real clock would date the pseudonymous
 * study, and next to a shifted Study Date give away the patient's shift. A source without a date
 * gets PS3.15's dummy date, as the anonymizer writes it: Content Date is Type 1 in a SEG.
 */
function sourceDateTime(given: SegmentationInput['patientStudy']): { date: string; time: string } | undefined {
  if (!Array.isArray(given)) return undefined;
  const value = (tag: number): string => dicom.stringOf(dicom.find(given, tag))?.trim() ?? '';
  for (const [dateTag, timeTag] of [[TAG.ContentDate, TAG.ContentTime], [TAG.SeriesDate, TAG.SeriesTime], [TAG.StudyDate, TAG.StudyTime]]) {
    const date = value(dateTag);
    if (!/^\d{8}$/.test(date)) continue;
    const time = value(timeTag);
    return { date, time: /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/.test(time) ? time : '000000' };
  }
  return { date: '19000101', time: '000000' };
}

/** DA and TM at `offset` (`±HHMM`), or in local time when there is none. */
export function dicomDateTime(d: Date, offset: string | null): { date: string; time: string } {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  // The clock at `offset` is UTC shifted by it; local time is UTC shifted by the process's own offset.
  const minutes = offset === null ? -d.getTimezoneOffset() : (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3, 5)));
  const at = new Date(d.getTime() + minutes * 60_000);
  return {
    date: `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}`,
    time: `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}.${p(at.getUTCMilliseconds(), 3)}`,
  };
}
