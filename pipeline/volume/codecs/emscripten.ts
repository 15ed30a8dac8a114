/**
 * Loading the Emscripten (WebAssembly) codec builds that npm packages ship, and keeping their
 * console chatter out of Limen's output: what they print is kept and quoted in error messages.
 */
import { createRequire } from 'node:module';

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
