/**
 * One series' instances to one CT volume in HU: parse, check that everything agrees, sort along
 * the slice normal, then decode slice by slice straight into a single Int16Array. No per-voxel
 * objects and no float copies: the only buffers besides the volume are one slice of stored values
 * and whatever a codec hands back for the frame it is decoding.
 */
import { dicom } from '../../anonymizer/index.js';
import { Codecs, type DecodedFrame, type FrameDecoder, type FrameLayout } from './codecs/index.js';
import { splitFrames } from './encapsulated.js';
import { VolumeAssemblyError, fail, type VolumeError } from './errors.js';
import { DEFAULT_TOLERANCES, sortAndCheck, type GeometryTolerances } from './geometry.js';
import { describeInstance, framesOf, pixelFormatOf, type FrameRecord, type ImageInstance, type PixelFormat } from './instance.js';
import { seriesImages } from './series-images.js';
import { readStoredValues, writeHounsfield } from './pixels.js';
import { VT } from './tags.js';
import type { CtVolume, SliceSource } from './types.js';

export interface AssembleOptions {
  /** Geometry tolerances; defaults in DEFAULT_TOLERANCES. */
  tolerances?: Partial<GeometryTolerances>;
  /** Decoders to reuse across assemblies (a worker keeps one); a fresh set otherwise. */
  codecs?: Codecs;
  /** Called after each slice is decoded, for progress reports. */
  onSlice?: (done: number, total: number) => void;
}

export type AssembleResult = { ok: true; volume: CtVolume } | { ok: false; error: VolumeError };

/** Assembles a series (as `selectSeries` chose it) into a CtVolume, or says why it cannot. */
export async function assembleVolume(instances: ReadonlyArray<{ bytes: Uint8Array }>, options: AssembleOptions = {}): Promise<AssembleResult> {
  try {
    return { ok: true, volume: await assemble(instances, options) };
  } catch (e) {
    if (e instanceof VolumeAssemblyError) return { ok: false, error: e.detail };
    throw e;
  }
}

/** The throwing form: a VolumeAssemblyError carries the same VolumeError. */
export async function assembleVolumeOrThrow(instances: ReadonlyArray<{ bytes: Uint8Array }>, options: AssembleOptions = {}): Promise<CtVolume> {
  return assemble(instances, options);
}

function parseAll(instances: ReadonlyArray<{ bytes: Uint8Array }>): ImageInstance[] {
  const parsed: ImageInstance[] = [];
  instances.forEach((input, index) => {
    try {
      parsed.push(describeInstance(index, dicom.readPart10(input.bytes)));
    } catch (e) {
      if (e instanceof dicom.DicomParseError) {
        const code = e.code === 'unsupported-transfer-syntax' ? 'unsupported-transfer-syntax' : 'unreadable-instance';
        fail(code, `instance #${index + 1} is not readable DICOM: ${e.message}`);
      }
      throw e;
    }
  });
  return seriesImages(parsed).images;
}

function checkSameSeries(images: ImageInstance[]): void {
  const first = images[0];
  for (const i of images) {
    if (i.modality !== 'CT') {
      fail('not-ct', `instance ${i.sopInstanceUID} has Modality ${i.modality || '(empty)'}, not CT`, { attribute: 'Modality', sopInstanceUID: i.sopInstanceUID });
    }
    if (i.seriesInstanceUID !== first.seriesInstanceUID) {
      fail('mixed-series', `instances of two series given as one: ${first.seriesInstanceUID} and ${i.seriesInstanceUID}`, { attribute: 'SeriesInstanceUID', sopInstanceUID: i.sopInstanceUID });
    }
    if (i.frameOfReferenceUID !== first.frameOfReferenceUID) {
      fail('inconsistent-geometry', `FrameOfReferenceUID differs between instances ${first.sopInstanceUID} and ${i.sopInstanceUID}: their positions are not in one patient space`, {
        attribute: 'FrameOfReferenceUID',
        sopInstanceUID: i.sopInstanceUID,
      });
    }
  }
}

function checkMatrix(images: ImageInstance[], formats: Map<ImageInstance, PixelFormat>): PixelFormat {
  const ref = formats.get(images[0])!;
  for (const i of images) {
    const f = formats.get(i)!;
    if (f.rows !== ref.rows || f.columns !== ref.columns) {
      const attribute = f.rows !== ref.rows ? 'Rows' : 'Columns';
      fail('inconsistent-geometry', `matrix is ${f.columns}×${f.rows} in instance ${i.sopInstanceUID} but ${ref.columns}×${ref.rows} in instance ${images[0].sopInstanceUID}`, {
        attribute,
        deviation: attribute === 'Rows' ? Math.abs(f.rows - ref.rows) : Math.abs(f.columns - ref.columns),
        sopInstanceUID: i.sopInstanceUID,
      });
    }
  }
  return ref;
}

async function decoderFor(image: ImageInstance, codecs: Codecs): Promise<FrameDecoder | undefined> {
  const ts = image.parsed.transferSyntax;
  if (!ts.encapsulated) return undefined;
  const decoder = await codecs.forTransferSyntax(ts.uid);
  if (!decoder) {
    fail('unsupported-transfer-syntax', `instance ${image.sopInstanceUID} is encoded in ${ts.name} (${ts.uid}), which Limen cannot decode`, {
      attribute: 'TransferSyntaxUID',
      sopInstanceUID: image.sopInstanceUID,
    });
  }
  return decoder;
}

/** The pixel data element's frames, split once per instance. */
class FrameSource {
  private readonly split = new Map<ImageInstance, Uint8Array[]>();

  frame(image: ImageInstance, format: PixelFormat, frameIndex: number, decoder: FrameDecoder | undefined): DecodedFrame {
    const ds = image.parsed.dataset;
    const pixelData = dicom.find(ds, VT.PixelData);
    const where = { attribute: 'PixelData', sopInstanceUID: image.sopInstanceUID };
    if (!pixelData || (!pixelData.value && !pixelData.fragments)) fail('missing-pixel-data', `instance ${image.sopInstanceUID} has no pixel data`, where);
    const layout: FrameLayout = format;
    if (!decoder) {
      if (!pixelData.value) fail('missing-pixel-data', `instance ${image.sopInstanceUID} has encapsulated pixel data in an uncompressed transfer syntax`, where);
      const length = format.rows * format.columns * (format.bitsAllocated / 8);
      const start = frameIndex * length;
      if (start + length > pixelData.value.length) {
        fail('missing-pixel-data', `pixel data of instance ${image.sopInstanceUID} has ${pixelData.value.length} bytes; frame ${frameIndex + 1} needs ${start + length}`, where);
      }
      return { kind: 'raw', bytes: pixelData.value.subarray(start, start + length) };
    }
    if (!pixelData.fragments) fail('missing-pixel-data', `instance ${image.sopInstanceUID} is in ${image.parsed.transferSyntax.name} but its pixel data is not encapsulated`, where);
    let frames = this.split.get(image);
    if (!frames) {
      const eot = dicom.find(ds, VT.ExtendedOffsetTable);
      const extended = eot?.value ? dicom.extendedOffsets(eot.value) : undefined;
      frames = splitFrames(pixelData.fragments, image.numberOfFrames, image.sopInstanceUID, extended);
      this.split.set(image, frames);
    }
    try {
      return decoder.decode(frames[frameIndex], layout);
    } catch (e) {
      return fail('decode-failed', `frame ${frameIndex + 1} of instance ${image.sopInstanceUID} could not be decoded as ${image.parsed.transferSyntax.name}: ${(e as Error).message ?? String(e)}`, where);
    }
  }
}

/** Extended Offset Table values (OV, 64-bit little-endian). */
async function assemble(instances: ReadonlyArray<{ bytes: Uint8Array }>, options: AssembleOptions): Promise<CtVolume> {
  const tolerances = { ...DEFAULT_TOLERANCES, ...options.tolerances };
  const codecs = options.codecs ?? new Codecs();
  const images = parseAll(instances);
  if (images.length === 0) fail('too-few-slices', 'no image instances given');
  checkSameSeries(images);
  const formats = new Map(images.map((i) => [i, pixelFormatOf(i)]));
  const { rows, columns } = checkMatrix(images, formats);

  const { frames, geometry } = sortAndCheck(images.flatMap(framesOf), columns, rows, tolerances);
  const decoders = new Map<ImageInstance, FrameDecoder | undefined>();
  for (const i of images) decoders.set(i, await decoderFor(i, codecs));

  const plane = rows * columns;
  const hu = new Int16Array(plane * frames.length);
  const stored = new Int32Array(plane);
  const source = new FrameSource();
  frames.forEach((f: FrameRecord, k: number) => {
    const format = formats.get(f.instance)!;
    const decoded = source.frame(f.instance, format, f.frameIndex, decoders.get(f.instance));
    try {
      readStoredValues(decoded, format, stored);
    } catch (e) {
      fail('decode-failed', `frame ${f.frameIndex + 1} of instance ${f.instance.sopInstanceUID}: ${(e as Error).message}`, { attribute: 'PixelData', sopInstanceUID: f.instance.sopInstanceUID });
    }
    writeHounsfield(stored, { slope: f.rescaleSlope, intercept: f.rescaleIntercept }, hu.subarray(k * plane, (k + 1) * plane));
    options.onSlice?.(k + 1, frames.length);
  });

  const first = images[0];
  return {
    ...geometry,
    hu,
    sources: frames.map((f): SliceSource => ({
      sopClassUID: f.instance.sopClassUID,
      sopInstanceUID: f.instance.sopInstanceUID,
      ...(f.instance.enhanced || f.instance.numberOfFrames > 1 ? { frameNumber: f.frameIndex + 1 } : {}),
      position: [...f.position],
    })),
    studyInstanceUID: first.studyInstanceUID,
    seriesInstanceUID: first.seriesInstanceUID,
    frameOfReferenceUID: first.frameOfReferenceUID,
  };
}
