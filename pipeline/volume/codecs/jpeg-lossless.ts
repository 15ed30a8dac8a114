/**
 * JPEG Lossless, Non-Hierarchical (Process 14), any predictor or first-order (SV1): transfer
 * syntaxes 1.2.840.10008.1.2.4.57 and .70, decoded by the npm package `jpeg-lossless-decoder-js`
 * (pure JavaScript, the decoder OHIF's image loader uses).
 */
import { createRequire } from 'node:module';
import type { DecodedFrame, FrameDecoder, FrameLayout } from './types.js';

/** The part of the package's API used here (it ships no type declarations). */
interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
  precision?: number;
  xDim: number;
  yDim: number;
  xLoc: number;
  yLoc: number;
  numComp: number;
  stream: { index: number };
  select7: () => number;
  getPreviousX(): number;
  getPreviousY(): number;
}

const require = createRequire(import.meta.url);

/** What the header announces: the start-of-frame marker (0xFFC3 for lossless Huffman) and the first scan's point transform. */
export function jpegHeader(frame: Uint8Array): { sof?: number; pointTransform?: number } {
  const out: { sof?: number; pointTransform?: number } = {};
  if (frame.length < 4 || frame[0] !== 0xff || frame[1] !== 0xd8) return out;
  let at = 2;
  while (at + 4 <= frame.length) {
    if (frame[at] !== 0xff) return out;
    const marker = 0xff00 | frame[at + 1];
    if (marker === 0xffff) {
      at += 1; // fill byte
      continue;
    }
    const length = (frame[at + 2] << 8) | frame[at + 3];
    if (marker >= 0xffc0 && marker <= 0xffcf && marker !== 0xffc4 && marker !== 0xffc8 && marker !== 0xffcc) out.sof ??= marker;
    if (marker === 0xffda) {
      // SOS: Ls, Ns, Ns × (Cs, Td|Ta), Ss, Se, Ah|Al.
      const ns = frame[at + 4];
      const al = at + 5 + 2 * ns + 2;
      if (al < frame.length) out.pointTransform = frame[al] & 0x0f;
      return out;
    }
    at += 2 + length;
  }
  return out;
}

/**
 * The codestream with fill bytes (0xFF) before its EOI removed and two stuffed 0xFF bytes of
 * padding added in their place. The package reads ahead of the last pixel's bits and takes a fill
 * byte before EOI (legal, PS T.81 B.1.1.2, and what DCMTK writes when the last bits end a byte) for
 * a marker, dropping the last pixel. Padding bits after the last pixel are never decoded.
 */
export function withPaddedEnd(frame: Uint8Array): Uint8Array {
  let end = frame.length;
  while (end > 0 && frame[end - 1] === 0) end--; // even-length padding of the fragment
  if (end < 4 || frame[end - 2] !== 0xff || frame[end - 1] !== 0xd9) return frame;
  let data = end - 2;
  while (data > 2 && frame[data - 1] === 0xff) data--;
  const out = new Uint8Array(data + 6);
  out.set(frame.subarray(0, data));
  out.set([0xff, 0x00, 0xff, 0x00, 0xff, 0xd9], data);
  return out;
}

/** Creates the decoder; the package is loaded on first use. */
export function createJpegLosslessDecoder(): FrameDecoder {
  let Decoder: (new () => LosslessDecoder) | undefined;
  return {
    name: 'JPEG Lossless Process 14 (jpeg-lossless-decoder-js)',
    decode(frame: Uint8Array, layout: FrameLayout): DecodedFrame {
      const { sof, pointTransform } = jpegHeader(frame);
      if (sof !== 0xffc3) {
        throw new Error(sof === undefined ? 'not a JPEG codestream (no SOI and start-of-frame marker)' : `JPEG start-of-frame marker ${sof.toString(16).toUpperCase()} is not lossless Huffman (FFC3)`);
      }
      // The package ignores the point transform, which would give wrong values: refuse instead.
      if (pointTransform !== 0) {
        throw new Error(pointTransform === undefined ? 'JPEG Lossless codestream has no scan header' : `JPEG Lossless point transform ${pointTransform} is not supported (only 0)`);
      }
      Decoder ??= (require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder }).Decoder;
      const decoder = new Decoder();
      // The package predicts (Ra + Rb) / 2 without truncating (predictor 7); T.81 H.1.2.1 shifts right.
      decoder.select7 = function (this: LosslessDecoder): number {
        return (this.getPreviousX() + this.getPreviousY()) >> 1;
      };
      const bytesPerSample = layout.bitsAllocated > 8 ? 2 : 1;
      const padded = withPaddedEnd(frame);
      let samples: Uint8Array | Uint16Array;
      try {
        samples = decoder.decode(padded.buffer as ArrayBuffer, padded.byteOffset, padded.byteLength, bytesPerSample);
      } catch (e) {
        throw new Error(`JPEG Lossless decoder: ${(e as Error).message}`);
      }
      if (decoder.numComp !== 1) throw new Error(`JPEG Lossless frame has ${decoder.numComp} components; CT has one`);
      if (decoder.xDim !== layout.columns || decoder.yDim !== layout.rows) {
        throw new Error(`JPEG Lossless frame is ${decoder.xDim}×${decoder.yDim}; Rows and Columns say ${layout.columns}×${layout.rows}`);
      }
      // The decoder stops quietly when the data runs out: a frame that ends early is truncated, not done.
      if (decoder.yLoc < decoder.yDim || decoder.stream.index > padded.byteLength) {
        throw new Error('JPEG Lossless codestream ends before the last pixel: truncated frame');
      }
      return { kind: 'samples', samples, precision: decoder.precision ?? layout.bitsStored, signed: false };
    },
  };
}
