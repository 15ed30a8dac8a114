/**
 * BINARY segmentation frames as one bit stream (PS3.5 §8.1.1 and §8.2): pixel i of the stream is
 * bit (i mod 8) of byte ⌊i/8⌋, least significant bit first, and frames follow each other with no
 * padding between them. When Rows × Columns is not a multiple of 8 (101 × 122 = 12322 bits), a
 * frame therefore starts in the middle of a byte; only the end of the whole stream is padded.
 * Such frames are what several decoders get wrong (see `framesAreByteAligned`), so the writer then
 * uses one byte per pixel instead (`byteFrames`).
 */

/** One frame to pack: the voxels of slice `z` equal to `labelId`. */
export interface PackedFrame {
  labelId: number;
  z: number;
  /** `members[v]` is 1 for every label value the frame's mask takes (its own and those it contains); default: `labelId` alone. */
  members?: Uint8Array;
}

/** Bytes needed for `frames` frames of `pixelsPerFrame` one-bit pixels, before the even-length pad. */
export const packedLength = (frames: number, pixelsPerFrame: number): number => Math.ceil((frames * pixelsPerFrame) / 8);

/**
 * Packs the given slices of a label map, one frame after the other. `labels` holds `plane` voxels
 * per slice, slice after slice; the pixel order within a frame is the slice's (column fastest).
 */
export function packFrames(labels: Uint8Array, plane: number, frames: readonly PackedFrame[]): Uint8Array {
  const out = new Uint8Array(packedLength(frames.length, plane));
  const whole = plane & ~7;
  let bit = 0;
  for (const { labelId, z, members } of frames) {
    const m = members ?? only(labelId);
    const base = z * plane;
    // Eight pixels make one byte's worth of bits, which lands `shift` bits into the output byte
    // and spills into the next one when the frame did not start on a byte boundary.
    const shift = bit & 7;
    let at = bit >>> 3;
    let i = 0;
    for (; i < whole; i += 8, at++) {
      const p = base + i;
      const v =
        m[labels[p]] | (m[labels[p + 1]] << 1) | (m[labels[p + 2]] << 2) | (m[labels[p + 3]] << 3) |
        (m[labels[p + 4]] << 4) | (m[labels[p + 5]] << 5) | (m[labels[p + 6]] << 6) | (m[labels[p + 7]] << 7);
      if (v === 0) continue;
      out[at] |= (v << shift) & 0xff;
      if (shift !== 0) out[at + 1] |= v >>> (8 - shift);
    }
    for (; i < plane; i++) {
      if (m[labels[base + i]]) {
        const b = bit + i;
        out[b >>> 3] |= 1 << (b & 7);
      }
    }
    bit += plane;
  }
  return out;
}

/**
 * Unpacks frame `frameIndex` (0-based) of a packed stream into `target` from `offset`: a set bit
 * writes `value`, a clear bit leaves the target as it is (so several frames can be merged).
 * Returns the number of set bits.
 */
export function unpackFrame(packed: Uint8Array, frameIndex: number, plane: number, target: Uint8Array, offset: number, value = 1): number {
  const start = frameIndex * plane;
  const end = start + plane;
  let set = 0;
  for (let at = start >>> 3, last = (end - 1) >>> 3; at <= last; at++) {
    const v = packed[at];
    if (v === 0) continue;
    for (let k = 0; k < 8; k++) {
      const b = at * 8 + k;
      if ((v >>> k) & 1 && b >= start && b < end) {
        target[offset + b - start] = value;
        set++;
      }
    }
  }
  return set;
}

/**
 * Whether every frame of a 1-bit stream starts on a byte boundary: Rows × Columns a multiple of 8
 * (512 × 512 is). Otherwise frames start mid-byte, which is standard, but which OHIF 3.13 decodes
 * wrong (dcmjs' AsyncDicomReader.readUncompressedBitFrame, used when OHIF fetches the SEG as one
 * Part 10 instance, realigns such frames taking bits most significant first), as do Weasis and
 * older pydicom.
 */
export const framesAreByteAligned = (pixelsPerFrame: number): boolean => pixelsPerFrame % 8 === 0;

/**
 * The same frames with one byte per pixel (a FRACTIONAL SEG's 8-bit pixels): `value` where the
 * voxel belongs to the frame's mask, 0 elsewhere; frames one after the other.
 */
export function byteFrames(labels: Uint8Array, plane: number, frames: readonly PackedFrame[], value = 255): Uint8Array {
  const out = new Uint8Array(frames.length * plane);
  frames.forEach(({ labelId, z, members }, k) => {
    const m = members ?? only(labelId);
    const base = z * plane;
    const at = k * plane;
    for (let i = 0; i < plane; i++) if (m[labels[base + i]]) out[at + i] = value;
  });
  return out;
}

/**
 * Frame `frameIndex` (0-based) of 8-bit fractional frames into `target` from `offset`: a pixel whose
 * fraction is at least half of `maximum` (≥ 1) writes `value` (others leave the target as it is).
 * Returns the number of such pixels.
 */
export function thresholdFrame(bytes: Uint8Array, frameIndex: number, plane: number, maximum: number, target: Uint8Array, offset: number, value = 1): number {
  const start = frameIndex * plane;
  let set = 0;
  for (let i = 0; i < plane; i++) {
    if (bytes[start + i] * 2 >= maximum) {
      target[offset + i] = value;
      set++;
    }
  }
  return set;
}

const single: Uint8Array[] = [];
/** The member table of one label value. */
function only(labelId: number): Uint8Array {
  return (single[labelId] ??= Uint8Array.from({ length: 256 }, (_, v) => (v === labelId ? 1 : 0)));
}
