/**
 * RLE Lossless (PS3.5 Annex G). A frame is a 64-byte header (the segment count, then fifteen
 * segment offsets) and one PackBits segment per byte plane, most significant byte first. The
 * output is the frame as native little-endian pixel data.
 */
import type { DecodedFrame, FrameDecoder, FrameLayout } from './types.js';

const u32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** Decodes one PackBits segment into every `stride`-th byte of `out`, from `start`; returns the bytes written. */
function unpackSegment(src: Uint8Array, out: Uint8Array, start: number, stride: number, count: number): number {
  let i = 0;
  let n = 0;
  let at = start;
  while (i < src.length && n < count) {
    const header = src[i++];
    if (header < 128) {
      // Literal run of header + 1 bytes.
      const run = Math.min(header + 1, count - n, src.length - i);
      for (let k = 0; k < run; k++, at += stride) out[at] = src[i + k];
      i += header + 1;
      n += run;
    } else if (header > 128) {
      // Replicate the next byte 257 - header times.
      if (i >= src.length) break;
      const value = src[i++];
      const run = Math.min(257 - header, count - n);
      for (let k = 0; k < run; k++, at += stride) out[at] = value;
      n += run;
    }
    // 128 is a no-op (PS3.5 G.3.1).
  }
  return n;
}

/** The RLE Lossless decoder, written from the standard. */
export const rleDecoder: FrameDecoder = {
  name: 'RLE Lossless (PS3.5 Annex G)',
  decode(frame: Uint8Array, layout: FrameLayout): DecodedFrame {
    const bytesPerSample = layout.bitsAllocated / 8;
    const pixels = layout.rows * layout.columns;
    if (frame.length < 64) throw new Error(`RLE frame of ${frame.length} bytes is shorter than its 64-byte header`);
    const segments = u32(frame, 0);
    if (segments !== bytesPerSample) {
      throw new Error(`RLE header lists ${segments} segments; ${bytesPerSample} are expected for one ${layout.bitsAllocated}-bit sample per pixel`);
    }
    const offsets: number[] = [];
    for (let s = 0; s < segments; s++) offsets.push(u32(frame, 4 + 4 * s));
    offsets.push(frame.length);
    const out = new Uint8Array(pixels * bytesPerSample);
    for (let s = 0; s < segments; s++) {
      const from = offsets[s];
      const to = offsets[s + 1];
      if (from < 64 || to < from || to > frame.length) throw new Error(`RLE segment ${s + 1} has offset ${from}, outside the ${frame.length}-byte frame`);
      // Segment 0 holds the most significant byte, which sits last in little-endian order.
      const written = unpackSegment(frame.subarray(from, to), out, bytesPerSample - 1 - s, bytesPerSample, pixels);
      if (written < pixels) throw new Error(`RLE segment ${s + 1} decodes to ${written} bytes; ${pixels} are expected`);
    }
    return { kind: 'raw', bytes: out };
  },
};
