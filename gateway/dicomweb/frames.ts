/**
 * Frames of an instance's pixel data, for WADO-RS `/frames` and bulk data. Native frames are
 * cut from the value by size (Rows × Columns × SamplesPerPixel × BitsAllocated / 8); one-bit
 * frames (SEG BINARY) follow each other bit by bit, so a frame may start inside a byte: it is
 * shifted to start at bit 0 of its own bytes. Encapsulated frames are found from the Extended or
 * Basic Offset Table, else one fragment per frame, else the codestreams' start markers.
 */
import { dicom } from '../../anonymizer/index.js';

const { find, stringOf, uint16Of } = dicom;

/** What it takes to cut and describe frames (Image Pixel Module, PS3.3 C.7.6.3). */
export interface PixelLayout {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  numberOfFrames: number;
}

/** Why frames cannot be had: `not-found` (404) or `unreadable` (the instance is at fault, 500). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly code: 'no-pixel-data' | 'frame-out-of-range' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

/** The pixel data element (integer, float or double) of a dataset. */
export function pixelDataOf(ds: dicom.Dataset): dicom.Element | undefined {
  return find(ds, dicom.T.PixelData) ?? find(ds, dicom.T.FloatPixelData) ?? find(ds, dicom.T.DoubleFloatPixelData);
}

/** The layout of a dataset's pixel data; throws `no-pixel-data` when it has none. */
export function pixelLayout(ds: dicom.Dataset): PixelLayout {
  if (!pixelDataOf(ds)) throw new FrameError('no-pixel-data', 'the instance has no pixel data');
  const rows = uint16Of(find(ds, 0x00280010)) ?? 0;
  const columns = uint16Of(find(ds, 0x00280011)) ?? 0;
  const bitsAllocated = uint16Of(find(ds, dicom.T.BitsAllocated)) ?? 0;
  if (!rows || !columns || !bitsAllocated) throw new FrameError('unreadable', 'Rows, Columns or BitsAllocated is missing');
  const frames = Number(stringOf(find(ds, 0x00280008)) || '1');
  return {
    rows,
    columns,
    samplesPerPixel: uint16Of(find(ds, 0x00280002)) ?? 1,
    bitsAllocated,
    bitsStored: uint16Of(find(ds, 0x00280101)) ?? bitsAllocated,
    pixelRepresentation: uint16Of(find(ds, dicom.T.PixelRepresentation)) ?? 0,
    numberOfFrames: Number.isInteger(frames) && frames > 0 ? frames : 1,
  };
}

/** Bits in one frame. */
export function frameBits(l: PixelLayout): number {
  return l.rows * l.columns * l.samplesPerPixel * l.bitsAllocated;
}

/** Frame `index` (0-based) of native pixel data, in bytes of its own. */
export function nativeFrame(value: Uint8Array, layout: PixelLayout, index: number): Uint8Array {
  checkIndex(layout, index);
  const bits = frameBits(layout);
  const start = index * bits;
  if (start + bits > value.length * 8) {
    throw new FrameError('unreadable', `the pixel data holds ${value.length} bytes, too few for frame ${index + 1} of ${layout.numberOfFrames}`);
  }
  if (bits % 8 === 0 && start % 8 === 0) return value.subarray(start / 8, (start + bits) / 8);
  return shiftBits(value, start, bits);
}

/** `bits` bits of `value` from bit `start` (least significant bit first), from bit 0 of a new array. */
function shiftBits(value: Uint8Array, start: number, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits / 8));
  const byte = start >>> 3;
  const shift = start & 7;
  for (let i = 0; i < out.length; i++) {
    const lo = value[byte + i] >>> shift;
    const hi = shift && byte + i + 1 < value.length ? (value[byte + i + 1] << (8 - shift)) & 0xff : 0;
    out[i] = lo | hi;
  }
  // Bits past the frame's end belong to the next frame: clear them.
  const tail = bits & 7;
  if (tail) out[out.length - 1] &= (1 << tail) - 1;
  return out;
}

/** Every frame of encapsulated pixel data (the reader's `fragments`: items and delimiter as read). */
export function encapsulatedFrames(fragments: Uint8Array, numberOfFrames: number, extendedOffsetTable?: Uint8Array): Uint8Array[] {
  const split = dicom.splitEncapsulatedFrames(fragments, numberOfFrames, extendedOffsetTable ? dicom.extendedOffsets(extendedOffsetTable) : undefined);
  if (!split.ok) throw new FrameError('unreadable', split.message);
  return split.frames;
}

function checkIndex(layout: PixelLayout, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= layout.numberOfFrames) {
    throw new FrameError('frame-out-of-range', `frame ${index + 1} does not exist; the instance has ${layout.numberOfFrames}`);
  }
}

/** Checks a 0-based frame index against the layout. */
export const assertFrame = checkIndex;
