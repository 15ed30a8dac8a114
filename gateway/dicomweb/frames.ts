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

const ITEM = 0xfffee000;
const SEQUENCE_DELIMITATION = 0xfffee0dd;
const u16 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

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
export function encapsulatedFrames(fragments: Uint8Array, numberOfFrames: number, extendedOffsets?: Uint8Array): Uint8Array[] {
  const items: Array<{ offset: number; bytes: Uint8Array }> = [];
  let at = 0;
  for (;;) {
    if (at + 8 > fragments.length) throw new FrameError('unreadable', 'the encapsulated pixel data ends without a sequence delimiter');
    const tag = ((u16(fragments, at) << 16) | u16(fragments, at + 2)) >>> 0;
    const length = u32(fragments, at + 4);
    if (tag === SEQUENCE_DELIMITATION) break;
    if (tag !== ITEM || at + 8 + length > fragments.length) throw new FrameError('unreadable', 'the encapsulated pixel data has a malformed item');
    items.push({ offset: at, bytes: fragments.subarray(at + 8, at + 8 + length) });
    at += 8 + length;
  }
  if (items.length < 2) throw new FrameError('unreadable', 'the encapsulated pixel data has no fragment');
  const table = items[0].bytes;
  const base = items[1].offset;
  const list = items.slice(1).map((f) => ({ offset: f.offset - base, bytes: f.bytes }));
  if (numberOfFrames === 1) return [concat(list.map((f) => f.bytes))];

  const byStarts = (starts: number[]): Uint8Array[] | undefined => {
    const index = new Map(list.map((f, i) => [f.offset, i]));
    const firsts = starts.map((s) => index.get(s));
    if (firsts.some((i) => i === undefined) || firsts[0] !== 0) return undefined;
    const frames: Uint8Array[] = [];
    for (let k = 0; k < firsts.length; k++) {
      const to = k + 1 < firsts.length ? firsts[k + 1]! : list.length;
      if (to <= firsts[k]!) return undefined;
      frames.push(concat(list.slice(firsts[k]!, to).map((f) => f.bytes)));
    }
    return frames;
  };
  if (extendedOffsets && extendedOffsets.length === numberOfFrames * 8) {
    const view = new DataView(extendedOffsets.buffer, extendedOffsets.byteOffset, extendedOffsets.byteLength);
    const frames = byStarts(Array.from({ length: numberOfFrames }, (_, k) => Number(view.getBigUint64(8 * k, true))));
    if (frames) return frames;
  }
  if (table.length === numberOfFrames * 4) {
    const frames = byStarts(Array.from({ length: numberOfFrames }, (_, k) => u32(table, 4 * k)));
    if (frames) return frames;
  }
  if (list.length === numberOfFrames) return list.map((f) => f.bytes);
  const starts = list.filter((f) => startsCodestream(f.bytes)).map((f) => f.offset);
  if (starts.length === numberOfFrames) {
    const frames = byStarts(starts);
    if (frames) return frames;
  }
  throw new FrameError('unreadable', `cannot tell which of the ${list.length} fragments belong to which of the ${numberOfFrames} frames`);
}

/** JPEG / JPEG-LS SOI, or JPEG 2000 SOC followed by SIZ. */
function startsCodestream(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  return (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51);
}

function concat(parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

function checkIndex(layout: PixelLayout, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= layout.numberOfFrames) {
    throw new FrameError('frame-out-of-range', `frame ${index + 1} does not exist; the instance has ${layout.numberOfFrames}`);
  }
}

/** Checks a 0-based frame index against the layout. */
export const assertFrame = checkIndex;
