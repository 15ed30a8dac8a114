/**
 * JPEG-LS, lossless and near-lossless (1.2.840.10008.1.2.4.80 and .81), decoded by CharLS built to
 * WebAssembly in the npm package `@cornerstonejs/codec-charls`.
 */
import { decodeFrame, loadEmscripten, type WasmDecoder } from './emscripten.js';
import type { DecodedFrame, FrameDecoder, FrameLayout } from './types.js';

interface CharLS {
  JpegLSDecoder: new () => WasmDecoder;
}

/** Loads CharLS and returns its decoder. */
export async function createJpegLsDecoder(): Promise<FrameDecoder> {
  const codec = await loadEmscripten<CharLS>('@cornerstonejs/codec-charls/decodewasmjs');
  return {
    name: 'JPEG-LS (CharLS, @cornerstonejs/codec-charls)',
    decode(frame: Uint8Array, layout: FrameLayout): DecodedFrame {
      // CharLS can spend tens of seconds on a codestream cut short: refuse those before it sees them.
      if (!endsWithEoi(frame)) throw new Error('JPEG-LS codestream does not end with an EOI marker: the frame is truncated');
      return decodeFrame(codec, () => new codec.module.JpegLSDecoder(), 'JPEG-LS', frame, layout);
    },
  };
}

/** True when the frame ends with EOI (FFD9), allowing the zero byte that pads a fragment to even length. */
export function endsWithEoi(frame: Uint8Array): boolean {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === 0) end--;
  return end >= 4 && frame[end - 2] === 0xff && frame[end - 1] === 0xd9;
}
