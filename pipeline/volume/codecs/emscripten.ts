/**
 * Loading the Emscripten (WebAssembly) codec builds that npm packages ship, and keeping their
 * console chatter out of Limen's output: what they print is kept and quoted in error messages.
 */
import { createRequire } from 'node:module';
import type { DecodedFrame, FrameLayout } from './types.js';

const require = createRequire(import.meta.url);

/** A WebAssembly decoder object as these builds expose it (embind classes). */
export interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned?: boolean };
  delete(): void;
}

/** A loaded module and the last lines it printed. */
export interface WasmCodec<M> {
  module: M;
  /** The module's recent output, newest last; cleared by `takeMessages`. */
  takeMessages(): string;
}

/** Instantiates the module a package exports under `specifier`. */
export async function loadEmscripten<M>(specifier: string): Promise<WasmCodec<M>> {
  const factory = require(specifier) as (settings: object) => Promise<M>;
  let lines: string[] = [];
  const keep = (line: string): void => {
    lines.push(String(line));
    if (lines.length > 20) lines = lines.slice(-20);
  };
  const module = await factory({ print: keep, printErr: keep });
  return {
    module,
    takeMessages() {
      const text = lines.filter((l) => !l.startsWith('[INFO]')).join('; ');
      lines = [];
      return text;
    },
  };
}

/** Embind throws numbers (pointers to C++ exceptions these builds cannot describe) or strings as well as Errors. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  return 'the codestream is corrupt or truncated (the decoder threw a native exception)';
}

/**
 * Decodes one single-component frame with a fresh decoder object: feeds the codestream, checks
 * the frame against Rows and Columns, and copies the samples out of WebAssembly memory (freed
 * with the decoder). `check` sees what the codec printed and may refuse the frame.
 */
export function decodeFrame<M>(
  codec: WasmCodec<M>,
  createDecoder: () => WasmDecoder,
  label: string,
  frame: Uint8Array,
  layout: FrameLayout,
  check: (said: string, info: ReturnType<WasmDecoder['getFrameInfo']>) => void = () => {},
): DecodedFrame {
  const decoder = createDecoder();
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    try {
      decoder.decode();
    } catch (e) {
      const said = codec.takeMessages();
      throw new Error(`${label}: ${describe(e)}${said ? ` (${said})` : ''}`);
    }
    const said = codec.takeMessages();
    const info = decoder.getFrameInfo();
    check(said, info);
    if (info.componentCount !== 1) throw new Error(`${label} frame has ${info.componentCount} components; CT has one`);
    if (info.width !== layout.columns || info.height !== layout.rows) {
      throw new Error(`${label} frame is ${info.width}×${info.height}; Rows and Columns say ${layout.columns}×${layout.rows}`);
    }
    const decoded = decoder.getDecodedBuffer();
    const pixels = layout.rows * layout.columns;
    const wide = info.bitsPerSample > 8;
    if (decoded.length !== pixels * (wide ? 2 : 1)) {
      throw new Error(`${label} frame decodes to ${decoded.length} bytes; ${pixels} pixels of ${info.bitsPerSample} bits expected${said ? ` (${said})` : ''}`);
    }
    const copy = decoded.slice();
    const signed = info.isSigned === true;
    const samples = wide ? (signed ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer)) : signed ? new Int8Array(copy.buffer) : copy;
    return { kind: 'samples', samples, precision: info.bitsPerSample, signed };
  } finally {
    decoder.delete();
  }
}
