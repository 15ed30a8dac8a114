/**
 * JPEG 2000, reversible and irreversible (1.2.840.10008.1.2.4.90 and .91), decoded by OpenJPEG
 * built to WebAssembly in the npm package `@cornerstonejs/codec-openjpeg`.
 */
import { decodeFrame, loadEmscripten, type WasmDecoder } from './emscripten.js';
import type { DecodedFrame, FrameDecoder, FrameLayout } from './types.js';

interface OpenJpeg {
  J2KDecoder: new () => WasmDecoder;
}

/** Loads OpenJPEG and returns its decoder. */
export async function createJpeg2000Decoder(): Promise<FrameDecoder> {
  const codec = await loadEmscripten<OpenJpeg>('@cornerstonejs/codec-openjpeg/decodewasmjs');
  return {
    name: 'JPEG 2000 (OpenJPEG, @cornerstonejs/codec-openjpeg)',
    decode(frame: Uint8Array, layout: FrameLayout): DecodedFrame {
      return decodeFrame(codec, () => new codec.module.J2KDecoder(), 'JPEG 2000', frame, layout, (said, info) => {
        if (info.componentCount === 0) throw new Error(`OpenJPEG decoded no image: the codestream is corrupt or truncated${said ? ` (${said})` : ''}`);
        // OpenJPEG reports truncated codestreams as warnings and fills the rest: refuse those.
        if (/error|truncat|premature|not enough/i.test(said)) throw new Error(`OpenJPEG: ${said}`);
      });
    },
  };
}
