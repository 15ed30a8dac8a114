/**
 * JPEG-LS, lossless and near-lossless (1.2.840.10008.1.2.4.80 and .81), decoded by CharLS built to
 * WebAssembly in the npm package `@cornerstonejs/codec-charls`.
 */
import { describe, loadEmscripten, type WasmDecoder } from './emscripten.js';
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
      const decoder = new codec.module.JpegLSDecoder();
      try {
        decoder.getEncodedBuffer(frame.length).set(frame);
        try {
          decoder.decode();
        } catch (e) {
          const said = codec.takeMessages();
          throw new Error(`CharLS: ${describe(e)}${said ? ` (${said})` : ''}`);
        }
        const info = decoder.getFrameInfo();
        if (info.componentCount !== 1) throw new Error(`JPEG-LS frame has ${info.componentCount} components; CT has one`);
        if (info.width !== layout.columns || info.height !== layout.rows) {
          throw new Error(`JPEG-LS frame is ${info.width}×${info.height}; Rows and Columns say ${layout.columns}×${layout.rows}`);
        }
        const decoded = decoder.getDecodedBuffer();
        const pixels = layout.rows * layout.columns;
        const wide = info.bitsPerSample > 8;
        if (decoded.length !== pixels * (wide ? 2 : 1)) throw new Error(`JPEG-LS frame decodes to ${decoded.length} bytes; ${pixels} pixels of ${info.bitsPerSample} bits expected`);
        // The decoded bytes live in WebAssembly memory, freed with the decoder: copy them out.
        const samples = wide ? new Uint16Array(decoded.slice().buffer) : decoded.slice();
        return { kind: 'samples', samples, precision: info.bitsPerSample, signed: false };
      } finally {
        decoder.delete();
      }
    },
  };
}

/** True when the frame ends with EOI (FFD9), allowing the zero byte that pads a fragment to even length. */
export function endsWithEoi(frame: Uint8Array): boolean {
  let end = frame.length;
  if (end > 0 && frame[end - 1] === 0) end--;
  return end >= 4 && frame[end - 2] === 0xff && frame[end - 1] === 0xd9;
}
