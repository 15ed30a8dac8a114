/**
 * One parsed instance as volume assembly sees it: its identity, its pixel format, and per frame its
 * place in patient space and its rescale. Single-frame CT keeps these at the top level; Enhanced CT
 * keeps them in the Shared and Per-frame Functional Groups (PS3.3 C.7.6.16), per frame winning.
 */
import { dicom } from '../../anonymizer/index.js';
import { fail } from './errors.js';
import { VT } from './tags.js';
import { firstItem, numberOf, textOf, vectorOf } from './values.js';

type Dataset = dicom.Dataset;
export type Vec3 = [number, number, number];

/** How the stored pixel values of an instance are laid out (Image Pixel Module, PS3.3 C.7.6.3). */
export interface PixelFormat {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
}

/** A readable instance, with what selection and assembly need to know without touching pixels. */
export interface ImageInstance {
  /** Position in the caller's list, for its error messages and results. */
  index: number;
  parsed: dicom.ParsedInstance;
  sopClassUID: string;
  sopInstanceUID: string;
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
  modality: string;
  imageType: string[];
  /** NumberOfFrames, 1 when absent. */
  numberOfFrames: number;
  /** Functional groups are present: geometry and rescale are read per frame from them. */
  enhanced: boolean;
}

/** One frame (a slice) of an instance, with its geometry and rescale resolved. */
export interface FrameRecord {
  instance: ImageInstance;
  /** 0-based frame index inside the instance. */
  frameIndex: number;
  position: Vec3;
  /** Row cosines then column cosines. */
  orientation: [number, number, number, number, number, number];
  /** PixelSpacing as DICOM orders it: [row spacing, column spacing] in mm. */
  pixelSpacing: [number, number];
  rescaleSlope: number;
  rescaleIntercept: number;
}

/** Reads identity attributes; pixel data and functional groups stay unread until a frame is asked for. */
export function describeInstance(index: number, parsed: dicom.ParsedInstance): ImageInstance {
  const ds = parsed.dataset;
  const frames = numberOf(dicom.find(ds, VT.NumberOfFrames));
  return {
    index,
    parsed,
    sopClassUID: textOf(ds, VT.SOPClassUID),
    sopInstanceUID: textOf(ds, VT.SOPInstanceUID),
    studyInstanceUID: textOf(ds, VT.StudyInstanceUID),
    seriesInstanceUID: textOf(ds, VT.SeriesInstanceUID),
    frameOfReferenceUID: textOf(ds, VT.FrameOfReferenceUID),
    modality: textOf(ds, VT.Modality).toUpperCase(),
    imageType: dicom.stringsOf(dicom.find(ds, VT.ImageType)).map((s) => s.toUpperCase()),
    numberOfFrames: frames !== undefined && Number.isInteger(frames) && frames > 0 ? frames : 1,
    enhanced: dicom.find(ds, VT.PerFrameFunctionalGroupsSequence) !== undefined || dicom.find(ds, VT.SharedFunctionalGroupsSequence) !== undefined,
  };
}

/** A localizer (scout) sometimes travels in the axial series; it is never part of the volume. */
export function isLocalizer(instance: ImageInstance): boolean {
  return instance.imageType[2] === 'LOCALIZER';
}

/** The functional group macro for a frame: the per-frame item's, else the shared one's. */
function macro(ds: Dataset, frameIndex: number, macroTag: number): Dataset | undefined {
  const perFrame = dicom.find(ds, VT.PerFrameFunctionalGroupsSequence)?.items?.[frameIndex];
  return firstItem(perFrame, macroTag) ?? firstItem(firstItem(ds, VT.SharedFunctionalGroupsSequence), macroTag);
}

/** ImageOrientationPatient of one frame, or undefined when absent or malformed. */
export function orientationOf(instance: ImageInstance, frameIndex = 0): FrameRecord['orientation'] | undefined {
  const ds = instance.parsed.dataset;
  const where = instance.enhanced ? macro(ds, frameIndex, VT.PlaneOrientationSequence) ?? ds : ds;
  return vectorOf(dicom.find(where, VT.ImageOrientationPatient), 6) as FrameRecord['orientation'] | undefined;
}

/** Every frame of an instance with its geometry and rescale; throws `missing-attribute` when one is absent, `not-hounsfield` when the rescale is not to HU. */
export function framesOf(instance: ImageInstance): FrameRecord[] {
  const ds = instance.parsed.dataset;
  const frames: FrameRecord[] = [];
  if (instance.enhanced) {
    const perFrame = dicom.find(ds, VT.PerFrameFunctionalGroupsSequence)?.items;
    if (instance.numberOfFrames > 1 && (!perFrame || perFrame.length < instance.numberOfFrames)) {
      fail('missing-attribute', `PerFrameFunctionalGroupsSequence has ${perFrame?.length ?? 0} items for ${instance.numberOfFrames} frames`, {
        attribute: 'PerFrameFunctionalGroupsSequence',
        sopInstanceUID: instance.sopInstanceUID,
      });
    }
  }
  for (let f = 0; f < instance.numberOfFrames; f++) {
    const pick = (macroTag: number): Dataset => (instance.enhanced ? macro(ds, f, macroTag) ?? ds : ds);
    const position = vectorOf(dicom.find(pick(VT.PlanePositionSequence), VT.ImagePositionPatient), 3) as Vec3 | undefined;
    const orientation = orientationOf(instance, f);
    const spacing = vectorOf(dicom.find(pick(VT.PixelMeasuresSequence), VT.PixelSpacing), 2) as [number, number] | undefined;
    const rescale = pick(VT.PixelValueTransformationSequence);
    const frame = instance.numberOfFrames > 1 ? ` (frame ${f + 1})` : '';
    const missing = (attribute: string, where = ''): never =>
      fail('missing-attribute', `${attribute}${where} is absent or malformed in instance ${instance.sopInstanceUID}${frame}`, {
        attribute,
        sopInstanceUID: instance.sopInstanceUID,
      });
    if (!position) missing('ImagePositionPatient');
    if (!orientation) missing('ImageOrientationPatient');
    if (!spacing || spacing[0] <= 0 || spacing[1] <= 0) missing('PixelSpacing');
    // Both are Type 1 for CT (PS3.3 C.8.2.1, and the CT Pixel Value Transformation Macro C.8.15.3.10):
    // stored values taken for HU would put air at +1024 when the intercept is -1024 and segment nonsense.
    const intercept = numberOf(dicom.find(rescale, VT.RescaleIntercept));
    const slope = numberOf(dicom.find(rescale, VT.RescaleSlope));
    const inGroups = instance.enhanced ? ' (PixelValueTransformationSequence, shared or per frame)' : '';
    if (intercept === undefined) missing('RescaleIntercept', inGroups);
    if (slope === undefined) missing('RescaleSlope', inGroups);
    checkHounsfield(instance, rescale, frame);
    frames.push({
      instance,
      frameIndex: f,
      position: position!,
      orientation: orientation!,
      pixelSpacing: spacing!,
      rescaleSlope: slope!,
      rescaleIntercept: intercept!,
    });
  }
  return frames;
}

/**
 * Rescale Type says what the rescaled values are. Absent, the CT Image IOD means HU; any other value
 * (US, unspecified, as cone-beam CT writes) is not calibrated to water and air, so the model's HU
 * window would cut at the wrong densities: `not-hounsfield`.
 */
function checkHounsfield(instance: ImageInstance, rescale: Dataset, frame: string): void {
  const type = textOf(rescale, VT.RescaleType);
  if (type === '' || type.toUpperCase() === 'HU') return;
  fail('not-hounsfield', `RescaleType is "${type}" in instance ${instance.sopInstanceUID}${frame}, not HU: its values are not Hounsfield units, which the model needs`, {
    attribute: 'RescaleType',
    sopInstanceUID: instance.sopInstanceUID,
  });
}

/** The Image Pixel Module of an instance; throws `missing-attribute` or `unsupported-pixel-format`. */
export function pixelFormatOf(instance: ImageInstance): PixelFormat {
  const ds = instance.parsed.dataset;
  const us = (tag: number): number | undefined => numberOf(dicom.find(ds, tag));
  const rows = us(VT.Rows);
  const columns = us(VT.Columns);
  const bitsAllocated = us(VT.BitsAllocated);
  const where = { sopInstanceUID: instance.sopInstanceUID };
  if (!rows || !columns) fail('missing-attribute', `Rows or Columns is absent in instance ${instance.sopInstanceUID}`, { attribute: rows ? 'Columns' : 'Rows', ...where });
  if (!bitsAllocated) fail('missing-attribute', `BitsAllocated is absent in instance ${instance.sopInstanceUID}`, { attribute: 'BitsAllocated', ...where });
  const bitsStored = us(VT.BitsStored) ?? bitsAllocated;
  const format: PixelFormat = {
    rows,
    columns,
    samplesPerPixel: us(VT.SamplesPerPixel) ?? 1,
    photometricInterpretation: textOf(ds, VT.PhotometricInterpretation).toUpperCase() || 'MONOCHROME2',
    bitsAllocated,
    bitsStored,
    highBit: us(VT.HighBit) ?? bitsStored - 1,
    pixelRepresentation: us(VT.PixelRepresentation) ?? 0,
  };
  if (format.samplesPerPixel !== 1 || !format.photometricInterpretation.startsWith('MONOCHROME')) {
    fail('unsupported-pixel-format', `instance ${instance.sopInstanceUID} is ${format.photometricInterpretation} with ${format.samplesPerPixel} samples per pixel; CT must be one greyscale sample`, {
      attribute: 'PhotometricInterpretation',
      ...where,
    });
  }
  if (![8, 16, 32].includes(bitsAllocated) || bitsStored < 1 || bitsStored > bitsAllocated || format.highBit >= bitsAllocated || format.highBit < bitsStored - 1) {
    fail('unsupported-pixel-format', `instance ${instance.sopInstanceUID} has BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${format.highBit}: not a layout Limen reads`, {
      attribute: 'BitsStored',
      ...where,
    });
  }
  if (dicom.find(ds, VT.FloatPixelData) || dicom.find(ds, VT.DoubleFloatPixelData)) {
    fail('unsupported-pixel-format', `instance ${instance.sopInstanceUID} has float pixel data, which CT does not use`, { attribute: 'FloatPixelData', ...where });
  }
  return format;
}
