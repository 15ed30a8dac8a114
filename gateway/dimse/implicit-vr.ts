/**
 * Re-encodes a native Explicit VR Little Endian data set in Implicit VR Little Endian, the
 * transfer syntax every DICOM implementation supports (PS3.5 §10.1), for a peer that accepts
 * nothing else. Pure: bytes in, bytes out.
 *
 * Both syntaxes are little endian, so values are copied byte for byte; only the headers change:
 * - an element becomes tag (4 bytes) + 32-bit length + value;
 * - every sequence and every item is written with undefined length and its delimiter, so a
 *   receiver can parse a private sequence whose VR it cannot look up (PS3.5 §7.5.1, §6.2.2);
 * - an odd-length value (malformed input) is padded to even length with its VR's pad byte;
 * - group length elements (gggg,0000) are left out: their values count explicit headers and
 *   would be wrong, and outside the command and file meta groups they are retired (PS3.5 §7.2).
 * Private elements lose their VR, as implicit VR allows. Encapsulated (compressed) pixel data
 * cannot be written in a native syntax: such a data set is refused, never decompressed here.
 */
import { dicom } from '../../anonymizer/index.js';

type Element = dicom.Element;

export type ImplicitVRConversionErrorCode = 'not-explicit-little-endian' | 'encapsulated-pixel-data' | 'unreadable';

export class ImplicitVRConversionError extends Error {
  override readonly name = 'ImplicitVRConversionError';
  constructor(
    readonly code: ImplicitVRConversionErrorCode,
    message: string,
    readonly tag?: number,
  ) {
    super(message);
  }
}

const UNDEFINED_LENGTH = 0xffffffff;

/**
 * The data set (no preamble, no file meta) in Implicit VR Little Endian. Throws
 * `ImplicitVRConversionError` for a data set in another transfer syntax, one that cannot be read,
 * or one holding encapsulated pixel data.
 */
export function toImplicitVRLittleEndian(dataSet: Uint8Array, transferSyntaxUID: string): Uint8Array {
  if (transferSyntaxUID !== dicom.EXPLICIT_VR_LITTLE_ENDIAN) {
    throw new ImplicitVRConversionError('not-explicit-little-endian', `only Explicit VR Little Endian is converted to Implicit VR Little Endian, not ${dicom.transferSyntax(transferSyntaxUID)?.name ?? transferSyntaxUID}`);
  }
  let elements: dicom.Dataset;
  try {
    elements = dicom.readDatasetIn(dataSet, transferSyntaxUID).dataset;
  } catch (err) {
    if (err instanceof dicom.DicomParseError && err.code === 'pixel-data-encoding') throw encapsulated(dicom.T.PixelData);
    throw new ImplicitVRConversionError('unreadable', `the data set cannot be read: ${(err as Error).message}`, err instanceof dicom.DicomParseError ? err.tag : undefined);
  }
  const out = new Uint8Array(datasetSize(elements));
  const end = writeDataset(out, 0, elements);
  if (end !== out.length) throw new Error(`internal: wrote ${end} of ${out.length} bytes`);
  return out;
}

function encapsulated(tag: number): ImplicitVRConversionError {
  return new ImplicitVRConversionError('encapsulated-pixel-data', `encapsulated pixel data at ${dicom.formatTag(tag)} cannot be sent in Implicit VR Little Endian (a native transfer syntax) without decompressing it`, tag);
}

const written = (el: Element): boolean => !dicom.isGroupLength(el.tag);
const paddedLength = (value: Uint8Array): number => value.length + (value.length & 1);

function elementSize(el: Element): number {
  if (el.fragments) throw encapsulated(el.tag);
  if (el.items) {
    let n = 8 + 8; // header (undefined length), sequence delimitation item
    for (const item of el.items) n += 8 + datasetSize(item) + 8; // item, contents, item delimitation item
    return n;
  }
  return 8 + paddedLength(el.value ?? new Uint8Array(0));
}

function datasetSize(elements: dicom.Dataset): number {
  let n = 0;
  for (const el of elements) if (written(el)) n += elementSize(el);
  return n;
}

/** Writes the elements in the order read (a well-formed data set is already in tag order). */
function writeDataset(out: Uint8Array, offset: number, elements: dicom.Dataset): number {
  let at = offset;
  for (const el of elements) {
    if (!written(el)) continue;
    if (el.items) {
      at = header(out, at, el.tag, UNDEFINED_LENGTH);
      for (const item of el.items) {
        at = header(out, at, dicom.ITEM, UNDEFINED_LENGTH);
        at = writeDataset(out, at, item);
        at = header(out, at, dicom.ITEM_DELIMITATION, 0);
      }
      at = header(out, at, dicom.SEQUENCE_DELIMITATION, 0);
      continue;
    }
    const value = el.value ?? new Uint8Array(0);
    at = header(out, at, el.tag, paddedLength(value));
    out.set(value, at);
    at += value.length;
    if (value.length & 1) out[at++] = dicom.padByte(el.vr);
  }
  return at;
}

function header(out: Uint8Array, at: number, tag: number, length: number): number {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  out[at] = group & 0xff;
  out[at + 1] = group >>> 8;
  out[at + 2] = element & 0xff;
  out[at + 3] = element >>> 8;
  out[at + 4] = length & 0xff;
  out[at + 5] = (length >>> 8) & 0xff;
  out[at + 6] = (length >>> 16) & 0xff;
  out[at + 7] = (length >>> 24) & 0xff;
  return at + 8;
}
