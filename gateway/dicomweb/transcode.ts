/**
 * Explicit VR Little Endian for clients that ask for it (PS3.18 §8.7.3.5.2): a native instance
 * in another byte order or VR encoding is written again element by element; a compressed one is
 * decompressed frame by frame with the pipeline's codecs (one sample per pixel: CT, MR, SEG).
 * What cannot be decompressed is refused with `not-decodable`, which the routes answer with 406.
 */
import { dicom, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../anonymizer/index.js';
import type { Codecs, DecodedFrame } from '../../pipeline/volume/index.js';
import { encapsulatedFrames, pixelDataOf, pixelLayout, type PixelLayout } from './frames.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from './transfer-syntax.js';

export class TranscodeError extends Error {
  override readonly name = 'TranscodeError';
  constructor(
    readonly code: 'not-decodable' | 'decode-failed',
    message: string,
  ) {
    super(message);
  }
}

/** The decoders transcoding needs; the pipeline's `Codecs` is one. */
export type FrameDecoders = Pick<Codecs, 'forTransferSyntax'>;

const EXTENDED_OFFSET_TABLE = 0x7fe00001;
const EXTENDED_OFFSET_TABLE_LENGTHS = 0x7fe00002;

/** The instance as an Explicit VR Little Endian Part 10 file; the same bytes when it already is one. */
export async function toExplicitLittleEndian(bytes: Uint8Array, codecs: FrameDecoders): Promise<Uint8Array> {
  const parsed = dicom.readPart10(bytes);
  const ts = parsed.transferSyntax;
  if (ts.uid === EXPLICIT_VR_LITTLE_ENDIAN) return bytes;
  let dataset = parsed.dataset;
  if (ts.encapsulated) {
    const pixels = pixelDataOf(dataset);
    if (pixels?.fragments) {
      const layout = pixelLayout(dataset);
      const frames = encapsulatedFrames(pixels.fragments, layout.numberOfFrames, dicom.find(dataset, EXTENDED_OFFSET_TABLE)?.value);
      const native: Uint8Array[] = [];
      for (const frame of frames) native.push(await decodeFrame(frame, layout, ts.uid, codecs));
      const value = Buffer.concat(native);
      const pixelData = dicom.valueElement(pixels.tag, layout.bitsAllocated > 8 ? 'OW' : 'OB', value);
      dataset = dataset.filter((el) => el !== pixels && el.tag !== EXTENDED_OFFSET_TABLE && el.tag !== EXTENDED_OFFSET_TABLE_LENGTHS).concat(pixelData);
    }
  }
  const str = (tag: number): string => dicom.stringOf(dicom.find(parsed.meta ?? [], tag)) ?? '';
  return dicom.writePart10(
    {
      mediaStorageSOPClassUID: str(dicom.T.MediaStorageSOPClassUID) || (dicom.stringOf(dicom.find(dataset, dicom.T.SOPClassUID)) ?? ''),
      mediaStorageSOPInstanceUID: str(dicom.T.MediaStorageSOPInstanceUID) || (dicom.stringOf(dicom.find(dataset, dicom.T.SOPInstanceUID)) ?? ''),
      transferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      implementationClassUID: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
    },
    dataset,
  );
}

/** Why frames of this layout cannot be decompressed here (one sample of 8 or 16 bits can), or undefined. */
export function undecodableLayout(layout: PixelLayout): string | undefined {
  if (layout.samplesPerPixel !== 1) return `compressed pixel data with ${layout.samplesPerPixel} samples per pixel cannot be decompressed here (one sample only)`;
  if (layout.bitsAllocated !== 8 && layout.bitsAllocated !== 16) return `compressed pixel data of ${layout.bitsAllocated} bits allocated cannot be decompressed here (8 or 16 only)`;
  return undefined;
}

export function layoutDecodable(layout: PixelLayout): boolean {
  return undecodableLayout(layout) === undefined;
}

/** One compressed frame as native little-endian pixel data. */
export async function decodeFrame(frame: Uint8Array, layout: PixelLayout, transferSyntaxUID: string, codecs: FrameDecoders): Promise<Uint8Array> {
  const decoder = await codecs.forTransferSyntax(transferSyntaxUID);
  if (!decoder) throw new TranscodeError('not-decodable', `pixel data in transfer syntax ${transferSyntaxUID} cannot be decompressed here`);
  const undecodable = undecodableLayout(layout);
  if (undecodable) throw new TranscodeError('not-decodable', undecodable);
  let decoded: DecodedFrame;
  try {
    decoded = decoder.decode(frame, layout);
  } catch (err) {
    throw new TranscodeError('decode-failed', `${decoder.name}: ${(err as Error).message}`);
  }
  const size = layout.rows * layout.columns * (layout.bitsAllocated / 8);
  if (decoded.kind === 'raw') {
    if (decoded.bytes.length < size) throw new TranscodeError('decode-failed', `the frame decodes to ${decoded.bytes.length} bytes; ${size} expected`);
    return decoded.bytes.subarray(0, size);
  }
  const { samples, precision, signed } = decoded;
  const n = layout.rows * layout.columns;
  if (samples.length < n) throw new TranscodeError('decode-failed', `the frame decodes to ${samples.length} samples; ${n} expected`);
  // A codec hands signed data back as unsigned codes of `precision` bits: sign-extend them.
  const extend = !signed && layout.pixelRepresentation === 1 && precision < layout.bitsAllocated;
  const sign = 1 << (precision - 1);
  const out = new Uint8Array(size);
  for (let i = 0; i < n; i++) {
    let v = samples[i];
    if (extend && v & sign) v -= 1 << precision;
    if (layout.bitsAllocated === 8) out[i] = v & 0xff;
    else {
      out[2 * i] = v & 0xff;
      out[2 * i + 1] = (v >>> 8) & 0xff;
    }
  }
  return out;
}
