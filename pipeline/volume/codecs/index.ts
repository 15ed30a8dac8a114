/**
 * Decoders by transfer syntax. Native (uncompressed) syntaxes need none: their pixel data is read
 * as it is, in whichever byte order the reader delivered (always little-endian). The WebAssembly
 * codecs load on first use and stay loaded for the life of the `Codecs` object that loaded them.
 */
import { createJpeg2000Decoder } from './jpeg2000.js';
import { createJpegLosslessDecoder } from './jpeg-lossless.js';
import { createJpegLsDecoder } from './jpeg-ls.js';
import { rleDecoder } from './rle.js';
import type { FrameDecoder } from './types.js';

export type { DecodedFrame, FrameDecoder, FrameLayout } from './types.js';
export { rleDecoder } from './rle.js';

type Family = 'rle' | 'jpeg-lossless' | 'jpeg-ls' | 'jpeg2000';

const FAMILY: Record<string, Family> = {
  '1.2.840.10008.1.2.5': 'rle',
  '1.2.840.10008.1.2.4.57': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.70': 'jpeg-lossless',
  '1.2.840.10008.1.2.4.80': 'jpeg-ls',
  '1.2.840.10008.1.2.4.81': 'jpeg-ls',
  '1.2.840.10008.1.2.4.90': 'jpeg2000',
  '1.2.840.10008.1.2.4.91': 'jpeg2000',
};

/** Encapsulated transfer syntaxes Limen decodes. */
export const DECODABLE_TRANSFER_SYNTAXES: readonly string[] = Object.keys(FAMILY);

/** The decoders one assembly (or one worker) uses; each loads once, when first needed. */
export class Codecs {
  private readonly loaded = new Map<Family, Promise<FrameDecoder>>();

  /** The decoder for an encapsulated transfer syntax, or undefined when Limen has none. */
  async forTransferSyntax(uid: string): Promise<FrameDecoder | undefined> {
    const family = FAMILY[uid];
    if (!family) return undefined;
    let decoder = this.loaded.get(family);
    if (!decoder) {
      decoder = load(family);
      this.loaded.set(family, decoder);
    }
    return decoder;
  }
}

async function load(family: Family): Promise<FrameDecoder> {
  switch (family) {
    case 'rle': return rleDecoder;
    case 'jpeg-lossless': return createJpegLosslessDecoder();
    case 'jpeg-ls': return createJpegLsDecoder();
    case 'jpeg2000': return createJpeg2000Decoder();
  }
}
