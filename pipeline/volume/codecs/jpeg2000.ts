/**
 * JPEG 2000, reversible and irreversible (1.2.840.10008.1.2.4.90 and .91), decoded by OpenJPEG
 * built to WebAssembly in the npm package `@cornerstonejs/codec-openjpeg`.
 */
import { describe, loadEmscripten, type WasmDecoder } from './emscripten.js';
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
      const decoder = new codec.module.J2KDecoder();
      try {
        decoder.getEncodedBuffer(frame.length).set(frame);
        try {
          decoder.decode();
        } catch (e) {
          const said = codec.takeMessages();
          throw new Error(`OpenJPEG: ${describe(e)}${said ? ` (${said})` : ''}`);
        }
        const said = codec.takeMessages();
        const info = decoder.getFrameInfo();
        if (info.componentCount === 0) throw new Error(`OpenJPEG decoded no image: the codestream is corrupt or truncated${said ? ` (${said})` : ''}`);
        if (info.componentCount !== 1) throw new Error(`JPEG 2000 frame has ${info.componentCount} components; CT has one`);
        if (info.width !== layout.columns || info.height !== layout.rows) {
          throw new Error(`JPEG 2000 frame is ${info.width}×${info.height}; Rows and Columns say ${layout.columns}×${layout.rows}`);
        }
        const decoded = decoder.getDecodedBuffer();
        const pixels = layout.rows * layout.columns;
        const wide = info.bitsPerSample > 8;
        if (decoded.length !== pixels * (wide ? 2 : 1)) {
          throw new Error(`JPEG 2000 frame decodes to ${decoded.length} bytes; ${pixels} pixels of ${info.bitsPerSample} bits expected${said ? ` (${said})` : ''}`);
        }
        // OpenJPEG reports truncated codestreams as warnings and fills the rest: refuse those.
        if (/error|truncat|premature|not enough/i.test(said)) throw new Error(`OpenJPEG: ${said}`);
        const copy = decoded.slice();
        const signed = info.isSigned === true;
        const samples = wide ? (signed ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer)) : signed ? new Int8Array(copy.buffer) : copy;
        return { kind: 'samples', samples, precision: info.bitsPerSample, signed };
      } finally {
        decoder.delete();
      }
    },
  };
}
