/**
 * Overlays embedded in Pixel Data: the retired form of the Overlay Plane module (PS3.3 C.9.2,
 * PS3.5 8.1.2), where an overlay is a bit of every pixel sample above High Bit rather than its
 * own Overlay Data (60xx,3000). Old archives still hold them, and an overlay can carry a name.
 * The profile removes the 60xx groups; the bits they describe must go too, or a viewer that
 * shows the sample's high bits shows the overlay. Pure: a data set in, the bits to clear out.
 */
import { T, find, formatTag, uint16Of, type Dataset } from './dicom/index.js';

const OVERLAY_BITS_ALLOCATED = 0x0100;
const OVERLAY_BIT_POSITION = 0x0102;
const OVERLAY_DATA = 0x3000;

export type EmbeddedOverlays = { ok: true; bits: number[] } | { ok: false; code: 'burned-in-annotation' | 'damaged-value'; message: string; tag: string };

/** The bits of each pixel sample that hold an overlay, or why they cannot be taken out. */
export function embeddedOverlayBits(ds: Dataset, encapsulated: boolean): EmbeddedOverlays {
  const bits = new Set<number>();
  const bitsAllocated = uint16Of(find(ds, T.BitsAllocated)) ?? 0;
  const highBit = uint16Of(find(ds, T.HighBit)) ?? bitsAllocated - 1;
  for (let group = 0x6000; group <= 0x601e; group += 2) {
    const tag = (element: number): number => ((group << 16) | element) >>> 0;
    const position = uint16Of(find(ds, tag(OVERLAY_BIT_POSITION)));
    const allocated = uint16Of(find(ds, tag(OVERLAY_BITS_ALLOCATED)));
    // An overlay with its own data, or one that says nothing of where it is, is not in the pixels.
    if (find(ds, tag(OVERLAY_DATA)) || position === undefined || allocated === undefined || allocated === 1) continue;
    const where = formatTag(tag(OVERLAY_BIT_POSITION));
    if (encapsulated) {
      return { ok: false, code: 'burned-in-annotation', tag: where, message: `${where} Overlay Bit Position: an overlay is embedded in compressed Pixel Data, where it cannot be taken out without decompressing; the profile does not allow it` };
    }
    if (position <= highBit || position >= bitsAllocated) {
      return { ok: false, code: 'damaged-value', tag: where, message: `${where} Overlay Bit Position ${position} is not a bit above High Bit (${highBit}) of a ${bitsAllocated}-bit sample: the overlay cannot be told apart from the image` };
    }
    bits.add(position);
  }
  return { ok: true, bits: [...bits] };
}

/** A copy of native Pixel Data (little endian) with `bits` cleared in every sample. */
export function withoutBits(pixels: Uint8Array, bitsAllocated: number, bits: readonly number[]): Uint8Array {
  const out = pixels.slice();
  const width = bitsAllocated >>> 3;
  for (const bit of bits) {
    const mask = ~(1 << (bit & 7)) & 0xff;
    for (let i = bit >>> 3; i < out.length; i += width) out[i] &= mask;
  }
  return out;
}
