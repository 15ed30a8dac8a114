/**
 * Encapsulated pixel data (PS3.5 A.4) into one byte string per frame. The reader keeps every item
 * as read, Basic Offset Table first and sequence delimiter last. Frames are found, in this order,
 * from: a single frame (every fragment is its), the Extended Offset Table, the Basic Offset Table,
 * one fragment per frame, and last the start markers of JPEG, JPEG-LS and JPEG 2000 codestreams.
 */
import { fail } from './errors.js';

const ITEM = 0xfffee000;
const SEQUENCE_DELIMITATION = 0xfffee0dd;

interface Fragment {
  /** Offset of the item tag, counted from the first item after the Basic Offset Table. */
  itemOffset: number;
  bytes: Uint8Array;
}

interface Items {
  offsetTable: Uint8Array;
  fragments: Fragment[];
}

const u16 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

function items(bytes: Uint8Array, sopInstanceUID: string): Items {
  const where = { attribute: 'PixelData', sopInstanceUID };
  const all: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (;;) {
    if (at + 8 > bytes.length) fail('missing-pixel-data', `encapsulated pixel data of instance ${sopInstanceUID} ends without a sequence delimiter`, where);
    const tag = ((u16(bytes, at) << 16) | u16(bytes, at + 2)) >>> 0;
    const length = u32(bytes, at + 4);
    if (tag === SEQUENCE_DELIMITATION) break;
    if (tag !== ITEM || at + 8 + length > bytes.length) fail('missing-pixel-data', `malformed item in the encapsulated pixel data of instance ${sopInstanceUID}`, where);
    offsets.push(at);
    all.push(bytes.subarray(at + 8, at + 8 + length));
    at += 8 + length;
  }
  if (all.length === 0) fail('missing-pixel-data', `encapsulated pixel data of instance ${sopInstanceUID} has no Basic Offset Table item`, where);
  const base = all.length > 1 ? offsets[1] : 0;
  return {
    offsetTable: all[0],
    fragments: all.slice(1).map((b, i) => ({ itemOffset: offsets[i + 1] - base, bytes: b })),
  };
}

function concat(parts: Fragment[]): Uint8Array {
  if (parts.length === 1) return parts[0].bytes;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.bytes.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return out;
}

/** Groups fragments by frame start offsets; undefined when an offset is not an item boundary or not ascending. */
function byOffsets(fragments: Fragment[], starts: number[]): Uint8Array[] | undefined {
  const index = new Map(fragments.map((f, i) => [f.itemOffset, i]));
  const first = starts.map((s) => index.get(s));
  if (first.some((i) => i === undefined) || first[0] !== 0) return undefined;
  const frames: Uint8Array[] = [];
  for (let k = 0; k < first.length; k++) {
    const from = first[k]!;
    const to = k + 1 < first.length ? first[k + 1]! : fragments.length;
    if (to <= from) return undefined;
    frames.push(concat(fragments.slice(from, to)));
  }
  return frames;
}

/** A codestream start: JPEG / JPEG-LS SOI, JPEG 2000 SOC+SIZ, or a JP2 signature box. */
function startsCodestream(b: Uint8Array): boolean {
  if (b.length < 4) return false;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return true;
  if (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51) return true;
  return b.length >= 12 && u32(b, 0) === 0x0c000000 && b[4] === 0x6a && b[5] === 0x50 && b[6] === 0x20 && b[7] === 0x20;
}

/**
 * The compressed bytes of each frame. `extendedOffsets` is the Extended Offset Table (7FE0,0001)
 * when present. Throws `missing-pixel-data` or `decode-failed` when the frames cannot be found.
 */
export function splitFrames(
  fragmentsBytes: Uint8Array,
  numberOfFrames: number,
  sopInstanceUID: string,
  extendedOffsets?: number[],
): Uint8Array[] {
  const { offsetTable, fragments } = items(fragmentsBytes, sopInstanceUID);
  const where = { attribute: 'PixelData', sopInstanceUID };
  if (fragments.length === 0) fail('missing-pixel-data', `encapsulated pixel data of instance ${sopInstanceUID} has no fragments`, where);
  if (numberOfFrames === 1) return [concat(fragments)];
  if (extendedOffsets && extendedOffsets.length === numberOfFrames) {
    const frames = byOffsets(fragments, extendedOffsets);
    if (frames) return frames;
  }
  if (offsetTable.length === numberOfFrames * 4) {
    const starts: number[] = [];
    for (let k = 0; k < numberOfFrames; k++) starts.push(u32(offsetTable, 4 * k));
    const frames = byOffsets(fragments, starts);
    if (frames) return frames;
  }
  if (fragments.length === numberOfFrames) return fragments.map((f) => f.bytes);
  const starts = fragments.filter((f) => startsCodestream(f.bytes)).map((f) => f.itemOffset);
  if (starts.length === numberOfFrames) {
    const frames = byOffsets(fragments, starts);
    if (frames) return frames;
  }
  if (fragments.length < numberOfFrames) {
    fail('missing-pixel-data', `instance ${sopInstanceUID} declares ${numberOfFrames} frames but its pixel data has only ${fragments.length} fragments`, where);
  }
  return fail('decode-failed', `cannot tell which of the ${fragments.length} fragments of instance ${sopInstanceUID} belong to which of its ${numberOfFrames} frames: no usable offset table and no codestream markers`, where);
}
