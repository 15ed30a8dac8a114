/**
 * Reads a BINARY or FRACTIONAL Segmentation (ours or another writer's, any native transfer syntax
 * the DICOM reader knows) into its segments, its frames (segment, position, source image) and its
 * masks as one packed bit stream, then unpacks frames onto a volume grid by their positions. A
 * FRACTIONAL pixel is in the mask when its fraction is at least half (Limen writes only 0 and the
 * maximum, so its masks come back exactly). Read leniently: attributes a writer put in the shared
 * functional groups are found there too.
 */
import { dicom } from '../../anonymizer/index.js';
import type { VolumeGeometry } from '../volume/types.js';
import { packedLength, packFrames, thresholdFrame, unpackFrame } from './bits.js';
import { SegError } from './errors.js';
import { SEGMENTATION_STORAGE, TAG } from './tags.js';
import { decodeText } from './text.js';
import type { CodedConcept } from './types.js';

type Element = dicom.Element;
type Vec3 = [number, number, number];

/** A segment as the SEG describes it. */
export interface SegmentInfo {
  segmentNumber: number;
  label: string;
  description?: string;
  category?: CodedConcept;
  type?: CodedConcept;
  typeModifier?: CodedConcept;
  anatomicRegion?: CodedConcept;
  algorithmType: string;
  algorithmName?: string;
  /** RecommendedDisplayCIELabValue, DICOM-scaled. */
  cieLab?: Vec3;
}

/** One frame: which segment, where, derived from which source image. */
export interface SegmentationFrame {
  segmentNumber: number;
  /** ImagePositionPatient from the frame's PlanePositionSequence. */
  position: Vec3;
  source?: { sopClassUID: string; sopInstanceUID: string; frameNumber?: number };
  dimensionIndexValues?: number[];
}

/** A source series and the instances the SEG lists in ReferencedSeriesSequence. */
export interface ReferencedSeries {
  seriesInstanceUID: string;
  instances: { sopClassUID: string; sopInstanceUID: string }[];
}

/** A parsed BINARY or FRACTIONAL Segmentation. */
export interface Segmentation {
  sopInstanceUID: string;
  seriesInstanceUID: string;
  studyInstanceUID: string;
  frameOfReferenceUID?: string;
  rows: number;
  columns: number;
  /** ImageOrientationPatient: row direction then column direction. */
  orientation?: [number, number, number, number, number, number];
  /** PixelSpacing: [row spacing, column spacing] in mm. */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  spacingBetweenSlices?: number;
  segments: SegmentInfo[];
  frames: SegmentationFrame[];
  referencedSeries: ReferencedSeries[];
  segmentationType: 'BINARY' | 'FRACTIONAL';
  /** FRACTIONAL only: what a fully occupied (or certain) pixel holds, and what the fraction means. */
  fractional?: { maximumFractionalValue: number; fractionalType: string };
  /**
   * The frames' masks as bits, one stream, frames back to back (see bits.ts): a BINARY SEG's
   * PixelData as stored; a FRACTIONAL SEG's pixels at least half the maximum, packed the same way.
   */
  pixelData: Uint8Array;
}

const LABELMAP_SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.7';

/** Parses a Segmentation; throws SegError 'not-a-segmentation' or 'unsupported-segmentation'. */
export function readSegmentation(bytes: Uint8Array): Segmentation {
  let ds: Element[];
  try {
    ds = dicom.readPart10(bytes).dataset;
  } catch (e) {
    throw new SegError('not-a-segmentation', `not readable as DICOM: ${(e as Error).message}`, { cause: e });
  }
  const str = (el: Element[], tag: number): string | undefined => dicom.stringOf(dicom.find(el, tag));
  const sopClass = str(ds, TAG.SOPClassUID);
  if (sopClass === LABELMAP_SEGMENTATION_STORAGE) throw new SegError('unsupported-segmentation', 'LABELMAP segmentations are not read here');
  if (sopClass !== SEGMENTATION_STORAGE) throw new SegError('not-a-segmentation', `SOP Class ${sopClass ?? '(none)'} is not Segmentation Storage`);
  const type = str(ds, TAG.SegmentationType);
  if (type !== 'BINARY' && type !== 'FRACTIONAL') throw new SegError('unsupported-segmentation', `SegmentationType ${type ?? '(none)'}: only BINARY and FRACTIONAL are read`);
  const bitsAllocated = dicom.uint16Of(dicom.find(ds, TAG.BitsAllocated));
  if (type === 'BINARY' && bitsAllocated !== 1) throw new SegError('not-a-segmentation', 'a BINARY segmentation must have BitsAllocated 1');
  if (type === 'FRACTIONAL' && bitsAllocated !== 8) throw new SegError('not-a-segmentation', 'a FRACTIONAL segmentation must have BitsAllocated 8');
  let fractional: Segmentation['fractional'];
  if (type === 'FRACTIONAL') {
    const maximumFractionalValue = dicom.uint16Of(dicom.find(ds, TAG.MaximumFractionalValue));
    if (maximumFractionalValue === undefined || maximumFractionalValue < 1 || maximumFractionalValue > 255) {
      throw new SegError('not-a-segmentation', 'a FRACTIONAL segmentation needs a MaximumFractionalValue from 1 to 255');
    }
    fractional = { maximumFractionalValue, fractionalType: str(ds, TAG.SegmentationFractionalType) ?? '' };
  }

  const rows = required(dicom.uint16Of(dicom.find(ds, TAG.Rows)), 'Rows');
  const columns = required(dicom.uint16Of(dicom.find(ds, TAG.Columns)), 'Columns');
  const numberOfFrames = required(numbers(dicom.find(ds, TAG.NumberOfFrames))[0] ?? 1, 'NumberOfFrames');
  const pixel = dicom.find(ds, TAG.PixelData);
  if (pixel?.fragments) throw new SegError('unsupported-segmentation', 'compressed (encapsulated) segmentation frames are not read here');
  if (!pixel?.value) throw new SegError('not-a-segmentation', 'no PixelData');
  const needed = fractional ? numberOfFrames * rows * columns : packedLength(numberOfFrames, rows * columns);
  if (pixel.value.length < needed) {
    throw new SegError('not-a-segmentation', `PixelData has ${pixel.value.length} bytes, ${numberOfFrames} frames of ${rows}×${columns} ${fractional ? 'bytes' : 'bits'} need ${needed}`);
  }

  const charset = str(ds, TAG.SpecificCharacterSet);
  const txt = (el: Element[], tag: number): string | undefined => {
    const e = dicom.find(el, tag);
    return e ? decodeText(e.value, charset) : undefined;
  };
  const code = (el: Element[], tag: number): CodedConcept | undefined => {
    const item = dicom.find(el, tag)?.items?.[0];
    if (!item) return undefined;
    return { value: txt(item, TAG.CodeValue) ?? txt(item, TAG.LongCodeValue) ?? '', scheme: txt(item, TAG.CodingSchemeDesignator) ?? '', meaning: txt(item, TAG.CodeMeaning) ?? '' };
  };

  const segments = (dicom.find(ds, TAG.SegmentSequence)?.items ?? []).map((item): SegmentInfo => {
    const lab = uint16s(dicom.find(item, TAG.RecommendedDisplayCIELabValue));
    return {
      segmentNumber: required(dicom.uint16Of(dicom.find(item, TAG.SegmentNumber)), 'SegmentNumber'),
      label: txt(item, TAG.SegmentLabel) ?? '',
      description: txt(item, TAG.SegmentDescription),
      category: code(item, TAG.SegmentedPropertyCategoryCodeSequence),
      type: code(item, TAG.SegmentedPropertyTypeCodeSequence),
      typeModifier: code(dicom.find(item, TAG.SegmentedPropertyTypeCodeSequence)?.items?.[0] ?? [], TAG.SegmentedPropertyTypeModifierCodeSequence),
      anatomicRegion: code(item, TAG.AnatomicRegionSequence),
      algorithmType: str(item, TAG.SegmentAlgorithmType) ?? '',
      algorithmName: txt(item, TAG.SegmentAlgorithmName),
      cieLab: lab.length === 3 ? [lab[0], lab[1], lab[2]] : undefined,
    };
  });
  if (segments.length === 0) throw new SegError('not-a-segmentation', 'no SegmentSequence');
  const segmentNumbers = new Set(segments.map((s) => s.segmentNumber));

  const shared = dicom.find(ds, TAG.SharedFunctionalGroupsSequence)?.items?.[0] ?? [];
  const perFrame = dicom.find(ds, TAG.PerFrameFunctionalGroupsSequence)?.items ?? [];
  if (perFrame.length !== numberOfFrames) {
    throw new SegError('not-a-segmentation', `PerFrameFunctionalGroupsSequence has ${perFrame.length} items for ${numberOfFrames} frames`);
  }
  // A functional group macro sits in the frame's item, or in the shared item for all frames.
  const group = (item: Element[], tag: number): Element[] | undefined => dicom.find(item, tag)?.items?.[0] ?? dicom.find(shared, tag)?.items?.[0];

  const frames = perFrame.map((item, i): SegmentationFrame => {
    const segmentNumber = dicom.uint16Of(dicom.find(group(item, TAG.SegmentIdentificationSequence) ?? [], TAG.ReferencedSegmentNumber));
    if (segmentNumber === undefined || !segmentNumbers.has(segmentNumber)) {
      throw new SegError('not-a-segmentation', `frame ${i + 1} references segment ${segmentNumber ?? '(none)'}, which SegmentSequence does not describe`);
    }
    const position = numbers(dicom.find(group(item, TAG.PlanePositionSequence) ?? [], TAG.ImagePositionPatient));
    if (position.length !== 3 || position.some((v) => !Number.isFinite(v))) throw new SegError('not-a-segmentation', `frame ${i + 1} has no ImagePositionPatient`);
    const sourceItem = group(item, TAG.DerivationImageSequence);
    const src = sourceItem ? dicom.find(sourceItem, TAG.SourceImageSequence)?.items?.[0] : undefined;
    const frameNumber = src ? numbers(dicom.find(src, TAG.ReferencedFrameNumber))[0] : undefined;
    const indices = dicom.find(group(item, TAG.FrameContentSequence) ?? [], TAG.DimensionIndexValues);
    return {
      segmentNumber,
      position: [position[0], position[1], position[2]],
      source: src
        ? { sopClassUID: str(src, TAG.ReferencedSOPClassUID) ?? '', sopInstanceUID: str(src, TAG.ReferencedSOPInstanceUID) ?? '', ...(frameNumber !== undefined ? { frameNumber } : {}) }
        : undefined,
      dimensionIndexValues: indices?.value ? uint32s(indices.value) : undefined,
    };
  });

  // Orientation and pixel measures are the same for every frame of a SEG; the first frame's (or the shared) values stand for all.
  const first = perFrame[0] ?? [];
  const orientation = numbers(dicom.find(group(first, TAG.PlaneOrientationSequence) ?? [], TAG.ImageOrientationPatient));
  const measures = group(first, TAG.PixelMeasuresSequence) ?? [];
  const spacing = numbers(dicom.find(measures, TAG.PixelSpacing));
  return {
    sopInstanceUID: str(ds, TAG.SOPInstanceUID) ?? '',
    seriesInstanceUID: str(ds, TAG.SeriesInstanceUID) ?? '',
    studyInstanceUID: str(ds, TAG.StudyInstanceUID) ?? '',
    frameOfReferenceUID: str(ds, TAG.FrameOfReferenceUID),
    rows,
    columns,
    orientation: orientation.length === 6 ? (orientation as Segmentation['orientation']) : undefined,
    pixelSpacing: spacing.length === 2 ? [spacing[0], spacing[1]] : undefined,
    sliceThickness: numbers(dicom.find(measures, TAG.SliceThickness))[0],
    spacingBetweenSlices: numbers(dicom.find(measures, TAG.SpacingBetweenSlices))[0],
    segments,
    frames,
    referencedSeries: (dicom.find(ds, TAG.ReferencedSeriesSequence)?.items ?? []).map((item) => ({
      seriesInstanceUID: str(item, TAG.SeriesInstanceUID) ?? '',
      instances: (dicom.find(item, TAG.ReferencedInstanceSequence)?.items ?? []).map((ref) => ({
        sopClassUID: str(ref, TAG.ReferencedSOPClassUID) ?? '',
        sopInstanceUID: str(ref, TAG.ReferencedSOPInstanceUID) ?? '',
      })),
    })),
    segmentationType: type,
    ...(fractional ? { fractional } : {}),
    pixelData: fractional ? maskBits(pixel.value, numberOfFrames, rows * columns, fractional.maximumFractionalValue) : pixel.value,
  };
}

/** 8-bit fractional frames as the bit stream of their masks (pixels at least half the maximum). */
function maskBits(bytes: Uint8Array, frames: number, plane: number, maximum: number): Uint8Array {
  const masks = new Uint8Array(frames * plane);
  for (let k = 0; k < frames; k++) thresholdFrame(bytes, k, plane, maximum, masks, k * plane);
  // Frame k of the mask volume is slice k: packing every slice with label 1 gives the stream.
  return packFrames(masks, plane, Array.from({ length: frames }, (_, z) => ({ labelId: 1, z })));
}

/** Frame `index` (0-based) as one byte per pixel (0 or 1), row by row. */
export function frameMask(seg: Segmentation, index: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= seg.frames.length) throw new SegError('invalid-input', `no frame ${index}`);
  const out = new Uint8Array(seg.rows * seg.columns);
  unpackFrame(seg.pixelData, index, seg.rows * seg.columns, out, 0);
  return out;
}

const dot = (a: readonly number[], b: readonly number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/**
 * Unpacks every frame onto `geometry`'s grid: per segment number, a mask of dims[0]×dims[1]×dims[2]
 * voxels (1 inside). A frame goes to the slice its ImagePositionPatient lies on; a frame off the
 * grid (more than a quarter voxel away), or a SEG of another matrix or orientation, is a
 * 'geometry-mismatch', never a silently shifted mask.
 */
export function segmentMasks(seg: Segmentation, geometry: VolumeGeometry): Map<number, Uint8Array> {
  const [nx, ny, nz] = geometry.dims;
  if (seg.columns !== nx || seg.rows !== ny) {
    throw new SegError('geometry-mismatch', `the SEG's frames are ${seg.columns}×${seg.rows}, the grid's slices ${nx}×${ny}`);
  }
  if (seg.orientation) {
    const row = seg.orientation.slice(0, 3);
    const col = seg.orientation.slice(3, 6);
    if (dot(row, geometry.rowDirection) < 0.9999 || dot(col, geometry.columnDirection) < 0.9999) {
      throw new SegError('geometry-mismatch', "the SEG's ImageOrientationPatient is not the grid's");
    }
  }
  const plane = nx * ny;
  const masks = new Map<number, Uint8Array>();
  for (const s of seg.segments) masks.set(s.segmentNumber, new Uint8Array(plane * nz));
  seg.frames.forEach((frame, i) => {
    const d = [0, 1, 2].map((k) => frame.position[k] - geometry.origin[k]);
    const x = dot(d, geometry.rowDirection) / geometry.spacing[0];
    const y = dot(d, geometry.columnDirection) / geometry.spacing[1];
    const t = dot(d, geometry.sliceDirection) / geometry.spacing[2];
    const z = Math.round(t);
    if (Math.abs(x) > 0.25 || Math.abs(y) > 0.25 || Math.abs(t - z) > 0.25 || z < 0 || z >= nz) {
      throw new SegError('geometry-mismatch', `frame ${i + 1} at (${frame.position.join(', ')}) is not on a slice of the grid`);
    }
    unpackFrame(seg.pixelData, i, plane, masks.get(frame.segmentNumber)!, z * plane);
  });
  return masks;
}

function required(n: number | undefined, what: string): number {
  if (n === undefined || !Number.isFinite(n) || n <= 0) throw new SegError('not-a-segmentation', `${what} is missing or not positive`);
  return n;
}

/** DS or IS values as numbers. */
function numbers(el: Element | undefined): number[] {
  return dicom.stringsOf(el).map(Number);
}

function uint16s(el: Element | undefined): number[] {
  if (!el?.value) return [];
  const out: number[] = [];
  for (let i = 0; i + 1 < el.value.length; i += 2) out.push(el.value[i] | (el.value[i + 1] << 8));
  return out;
}

function uint32s(v: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 3 < v.length; i += 4) out.push((v[i] | (v[i + 1] << 8) | (v[i + 2] << 16) | (v[i + 3] << 24)) >>> 0);
  return out;
}
