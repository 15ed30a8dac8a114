/**
 * From a decoded frame to Hounsfield units: take each stored value (BitsStored bits at HighBit,
 * two's complement when PixelRepresentation is 1), apply RescaleSlope and RescaleIntercept, round
 * and clamp to int16. Works one slice at a time into the volume's own array.
 */
import type { DecodedFrame } from './codecs/index.js';
import type { PixelFormat } from './instance.js';

/** The linear map from stored values to HU (Modality LUT, PS3.3 C.11.1). */
export interface Rescale {
  slope: number;
  intercept: number;
}

/**
 * Reads the stored values of one frame into `stored` (length rows × columns). Raw frames are
 * native little-endian pixel data; sample frames come from a codec.
 */
export function readStoredValues(frame: DecodedFrame, format: PixelFormat, stored: Int32Array): void {
  const n = stored.length;
  const signed = format.pixelRepresentation === 1;
  if (frame.kind === 'samples') {
    const { samples } = frame;
    if (samples.length < n) throw new Error(`decoded frame has ${samples.length} samples; ${n} expected`);
    if (frame.signed) {
      for (let i = 0; i < n; i++) stored[i] = samples[i];
      return;
    }
    // Bits above BitsStored are not part of the value; a codec's precision may be narrower.
    const bits = Math.min(frame.precision, format.bitsStored);
    extend(samples, stored, n, 0, bits, signed);
    return;
  }
  const { bytes } = frame;
  const width = format.bitsAllocated / 8;
  if (bytes.length < n * width) throw new Error(`frame has ${bytes.length} bytes; ${n * width} expected`);
  const shift = format.highBit + 1 - format.bitsStored;
  if (width === 1) {
    extend(bytes, stored, n, shift, format.bitsStored, signed);
  } else if (width === 2) {
    const bits = format.bitsStored;
    const mask = (1 << bits) - 1;
    const sign = 1 << (bits - 1);
    const span = 1 << bits;
    for (let i = 0, j = 0; i < n; i++, j += 2) {
      const v = ((bytes[j] | (bytes[j + 1] << 8)) >>> shift) & mask;
      stored[i] = signed && v & sign ? v - span : v;
    }
  } else {
    for (let i = 0, j = 0; i < n; i++, j += 4) {
      const word = (bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16) | (bytes[j + 3] << 24)) >>> 0;
      stored[i] = storedOf(word, shift, format.bitsStored, signed);
    }
  }
}

/** The value of `bits` bits at `shift` of a word, sign-extended when signed; within int32 range or clamped. */
function storedOf(word: number, shift: number, bits: number, signed: boolean): number {
  const span = 2 ** bits;
  let v = Math.floor(word / 2 ** shift) % span;
  if (signed && v >= span / 2) v -= span;
  return Math.max(-2147483648, Math.min(2147483647, v));
}

function extend(src: ArrayLike<number>, stored: Int32Array, n: number, shift: number, bits: number, signed: boolean): void {
  const mask = bits >= 31 ? 0x7fffffff : (1 << bits) - 1;
  const sign = bits >= 31 ? 0 : 1 << (bits - 1);
  const span = bits >= 31 ? 0 : 1 << bits;
  if (signed && sign) {
    for (let i = 0; i < n; i++) {
      const v = (src[i] >>> shift) & mask;
      stored[i] = v & sign ? v - span : v;
    }
  } else {
    for (let i = 0; i < n; i++) stored[i] = (src[i] >>> shift) & mask;
  }
}

/** Applies the rescale to stored values and writes HU, rounded and clamped to int16, into `target`. */
export function writeHounsfield(stored: Int32Array, rescale: Rescale, target: Int16Array): void {
  const { slope, intercept } = rescale;
  const n = target.length;
  if (slope === 1 && Number.isInteger(intercept)) {
    for (let i = 0; i < n; i++) {
      const v = stored[i] + intercept;
      target[i] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = Math.round(stored[i] * slope + intercept);
    target[i] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
  }
}
