/**
 * Encapsulated pixel data (PS3.5 A.4) into one byte string per frame. The reader keeps every item
 * as read, Basic Offset Table first and sequence delimiter last. Frames are found, in this order,
 * from: a single frame (every fragment is its), the Extended Offset Table, the Basic Offset Table,
 * one fragment per frame, and last the start markers of JPEG, JPEG-LS and JPEG 2000 codestreams.
 * Errors are data: callers say them in their own terms (a failed study, an HTTP answer).
 */
import { ITEM, SEQUENCE_DELIMITATION } from './tag.js';

export type FrameSplit =
  | { ok: true; frames: Uint8Array[] }
  | {
      ok: false;
      /** `malformed`: the items cannot be read; `too-few-fragments`; `ambiguous`: no offsets and no markers tell frames apart. */
      code: 'malformed' | 'too-few-fragments' | 'ambiguous';
      message: string;
    };

interface Fragment {
  /** Offset of the item tag, counted from the first item after the Basic Offset Table. */
  offset: number;
  bytes: Uint8Array;
}

const u16 = (b: Uint8Array, at: number): number => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** The Extended Offset Table (7FE0,0001): 64-bit little-endian offsets. */
export function extendedOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 8 <= bytes.length; at += 8) out.push(Number(view.getBigUint64(at, true)));
  return out;
}

/** The compressed bytes of each of `numberOfFrames` frames; `offsets` is the decoded Extended Offset Table, when present. */
export function splitEncapsulatedFrames(fragmentItems: Uint8Array, numberOfFrames: number, offsets?: readonly number[]): FrameSplit {
  const items: Fragment[] = [];
  let at = 0;
  for (;;) {
    if (at + 8 > fragmentItems.length) return { ok: false, code: 'malformed', message: 'the encapsulated pixel data ends without a sequence delimiter' };
    const tag = ((u16(fragmentItems, at) << 16) | u16(fragmentItems, at + 2)) >>> 0;
    const length = u32(fragmentItems, at + 4);
    if (tag === SEQUENCE_DELIMITATION) break;
    if (tag !== ITEM || at + 8 + length > fragmentItems.length) return { ok: false, code: 'malformed', message: 'the encapsulated pixel data has a malformed item' };
    items.push({ offset: at, bytes: fragmentItems.subarray(at + 8, at + 8 + length) });
    at += 8 + length;
  }
  if (items.length < 2) return { ok: false, code: 'malformed', message: 'the encapsulated pixel data has no fragment' };
  const table = items[0].bytes;
  const base = items[1].offset;
  const fragments = items.slice(1).map((f) => ({ offset: f.offset - base, bytes: f.bytes }));
  const found = (frames: Uint8Array[]): FrameSplit => ({ ok: true, frames });
  if (numberOfFrames === 1) return found([concat(fragments)]);
  if (offsets && offsets.length === numberOfFrames) {
    const frames = byStarts(fragments, offsets);
    if (frames) return found(frames);
  }
  if (table.length === numberOfFrames * 4) {
    const frames = byStarts(fragments, Array.from({ length: numberOfFrames }, (_, k) => u32(table, 4 * k)));
    if (frames) return found(frames);
  }
  if (fragments.length === numberOfFrames) return found(fragments.map((f) => f.bytes));
  const starts = fragments.filter((f) => startsCodestream(f.bytes)).map((f) => f.offset);
  if (starts.length === numberOfFrames) {
    const frames = byStarts(fragments, starts);
    if (frames) return found(frames);
  }
  if (fragments.length < numberOfFrames) {
    return { ok: false, code: 'too-few-fragments', message: `${numberOfFrames} frames are declared but the pixel data has only ${fragments.length} fragments` };
  }
  return { ok: false, code: 'ambiguous', message: `cannot tell which of the ${fragments.length} fragments belong to which of the ${numberOfFrames} frames: no usable offset table and no codestream markers` };
}

/** Groups fragments by frame start offsets; undefined when an offset is not an item boundary or not ascending. */
function byStarts(fragments: Fragment[], starts: readonly number[]): Uint8Array[] | undefined {
  const index = new Map(fragments.map((f, i) => [f.offset, i]));
  const firsts = starts.map((s) => index.get(s));
  if (firsts.some((i) => i === undefined) || firsts[0] !== 0) return undefined;
  const frames: Uint8Array[] = [];
  for (let k = 0; k < firsts.length; k++) {
    const to = k + 1 < firsts.length ? firsts[k + 1]! : fragments.length;
    if (to <= firsts[k]!) return undefined;
    frames.push(concat(fragments.slice(firsts[k]!, to)));
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
