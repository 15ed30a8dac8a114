/**
 * Reads DICOM bytes into elements without copying values: each value is a view into the input.
 * Pixel data is never decoded or walked beyond its item headers. Every length is checked against
 * the bytes that remain, so truncated or hostile input fails with a DicomParseError in bounded
 * time and memory, never with an exception from deep inside or an endless loop.
 */
import { inflateSync } from 'fflate';
import { lookup } from './dictionary.js';
import type { Dataset, Element } from './element.js';
import { encapsulatedElement, find, sequenceElement, stringOf, uint16Of, valueElement } from './element.js';
import { DicomParseError } from './errors.js';
import { isUID } from './uid.js';
import { ITEM, ITEM_DELIMITATION, SEQUENCE_DELIMITATION, T, isPrivate, type Tag } from './tag.js';
import {
  EXPLICIT_VR_LITTLE_ENDIAN,
  transferSyntax as lookupTransferSyntax,
  type TransferSyntax,
} from './transfer-syntax.js';
import { hasLongLength, isVR, swapWidth, type VR } from './vr.js';

/** Deeper nesting than this is refused: real instances stay far below, hostile ones do not. */
export const MAX_SEQUENCE_DEPTH = 64;
const UNDEFINED = 0xffffffff;

export interface ParsedInstance {
  /** The file meta group (0002,xxxx), absent when a bare dataset was read. */
  meta?: Dataset;
  dataset: Dataset;
  transferSyntax: TransferSyntax;
}

/** Reads a Part 10 file: 128-byte preamble, "DICM", the file meta group, then the dataset. */
export function readPart10(input: Uint8Array): ParsedInstance {
  const bytes = plainView(input);
  if (bytes.length < 132) throw new DicomParseError('not-part10', `file is ${bytes.length} bytes, too short for a DICOM preamble and prefix`);
  if (bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    throw new DicomParseError('not-part10', 'no "DICM" prefix after the 128-byte preamble: not a DICOM Part 10 file');
  }
  const meta = new Reader(bytes, 132, { explicitVR: true, littleEndian: true, pixelRepresentation: 0 });
  const metaElements: Element[] = [];
  while (meta.offset + 4 <= bytes.length && meta.peekGroup() === 0x0002) metaElements.push(meta.element(0));
  const tsUID = stringOf(find(metaElements, T.TransferSyntaxUID));
  if (!tsUID) throw new DicomParseError('no-transfer-syntax', 'the file meta information has no TransferSyntaxUID (0002,0010)');
  const ts = lookupTransferSyntax(tsUID);
  if (!ts) throw unsupported(tsUID);
  const dataset = readDataset(bytes.subarray(meta.offset), ts);
  return { meta: metaElements, dataset, transferSyntax: ts };
}

/** Reads a bare dataset (as DIMSE carries it) in the given transfer syntax. */
export function readDatasetIn(bytes: Uint8Array, transferSyntaxUID: string): ParsedInstance {
  const ts = lookupTransferSyntax(transferSyntaxUID);
  if (!ts) throw unsupported(transferSyntaxUID);
  return { dataset: readDataset(bytes, ts), transferSyntax: ts };
}

/** Quotes the UID only when it is one: a length that is off makes it run into the values after it. */
function unsupported(uid: string): DicomParseError {
  if (isUID(uid)) return new DicomParseError('unsupported-transfer-syntax', `transfer syntax ${uid} is not supported`);
  return new DicomParseError('unsupported-transfer-syntax', `the transfer syntax UID is not a valid UID (${uid.length} characters; PS3.5 9.1)`);
}

function readDataset(bytes: Uint8Array, ts: TransferSyntax): Dataset {
  let data = plainView(bytes);
  if (ts.deflated) {
    try {
      data = inflateSync(bytes);
    } catch (e) {
      throw new DicomParseError('deflate-failed', `the deflated dataset could not be inflated: ${(e as Error).message}`);
    }
  }
  // Read leniently: some writers announce Explicit VR but encode the dataset in Implicit VR
  // (pydicom's SC_rgb_jpeg.dcm); the first element's VR bytes tell, as DCMTK and pydicom check.
  const explicitVR = ts.explicitVR && !(ts.littleEndian && data.length >= 6 && !isVR(String.fromCharCode(data[4], data[5])));
  const reader = new Reader(data, 0, { explicitVR, littleEndian: ts.littleEndian, pixelRepresentation: 0 });
  const out: Element[] = [];
  while (reader.offset < data.length) {
    const el = reader.element(0);
    if (el.tag === T.PixelRepresentation) reader.ctx.pixelRepresentation = uint16Of(el) ?? 0;
    out.push(el);
  }
  checkPixelDataEncoding(out, ts);
  return out;
}

/**
 * The image's Pixel Data must be encoded as its transfer syntax says (PS3.5 A.4): encapsulated
 * under a compressed syntax, native otherwise. A mismatch read leniently would be stored under a
 * syntax no reader can decode it in. (An icon's pixel data, inside a sequence, may be either.)
 */
function checkPixelDataEncoding(ds: Dataset, ts: TransferSyntax): void {
  const pixels = find(ds, T.PixelData);
  if (!pixels) return;
  const encapsulated = pixels.fragments !== undefined;
  if (encapsulated === ts.encapsulated) return;
  // Each message fits an ErrorComment (64 characters).
  throw new DicomParseError('pixel-data-encoding', encapsulated ? 'encapsulated Pixel Data (7FE0,0010) in a native transfer syntax' : 'native Pixel Data (7FE0,0010) in an encapsulated transfer syntax');
}

interface Context {
  explicitVR: boolean;
  littleEndian: boolean;
  /** Resolves 'US|SS' in implicit VR, as PS3.5 Annex A says. */
  pixelRepresentation: number;
}

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public offset: number,
    readonly ctx: Context,
  ) {}

  private need(n: number, what: string, t?: Tag): void {
    if (this.offset + n > this.bytes.length) {
      throw new DicomParseError('truncated', `data ends inside ${what}: ${n} bytes needed, ${this.bytes.length - this.offset} left`, this.offset, t);
    }
  }

  private u16(at: number): number {
    const b = this.bytes;
    return this.ctx.littleEndian ? b[at] | (b[at + 1] << 8) : (b[at] << 8) | b[at + 1];
  }

  private u32(at: number): number {
    const b = this.bytes;
    return this.ctx.littleEndian
      ? (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0
      : ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
  }

  peekGroup(): number {
    return this.u16(this.offset);
  }

  private readTag(): Tag {
    this.need(4, 'a tag');
    const t = ((this.u16(this.offset) << 16) | this.u16(this.offset + 2)) >>> 0;
    this.offset += 4;
    return t;
  }

  element(depth: number): Element {
    const start = this.offset;
    const t = this.readTag();
    let vr: VR;
    let length: number;
    if (t === ITEM || t === ITEM_DELIMITATION || t === SEQUENCE_DELIMITATION) {
      throw new DicomParseError('bad-item', 'an item or delimitation tag where a data element was expected', start, t);
    }
    if (this.ctx.explicitVR) {
      this.need(4, 'an element header', t);
      const c0 = this.bytes[this.offset];
      const c1 = this.bytes[this.offset + 1];
      const code = String.fromCharCode(c0, c1);
      // The bytes are not quoted: where a VR should be, a broken file may hold a patient's name.
      if (!isVR(code)) throw new DicomParseError('bad-vr', 'no valid value representation', this.offset, t);
      vr = code;
      if (hasLongLength(vr)) {
        this.need(8, 'an element header', t);
        length = this.u32(this.offset + 4);
        this.offset += 8;
      } else {
        length = this.u16(this.offset + 2);
        this.offset += 4;
      }
    } else {
      this.need(4, 'an element length', t);
      length = this.u32(this.offset);
      this.offset += 4;
      vr = implicitVR(t, length, this.ctx.pixelRepresentation);
    }

    if (vr === 'SQ' || (length === UNDEFINED && vr === 'UN')) {
      // An undefined-length UN is a sequence encoded in implicit VR little endian (PS3.5 §6.2.2).
      const implicitInside = vr === 'UN';
      return sequenceElement(t, this.sequence(t, length, depth, implicitInside));
    }
    if (vr === 'UN' && length !== UNDEFINED && lookup(t)?.vr === 'SQ') {
      // A standard sequence some node sent as UN: its items are implicit VR little endian.
      this.need(length, 'a value', t);
      const inner = new Reader(this.bytes.subarray(0, this.offset + length), this.offset, { ...this.ctx, explicitVR: false, littleEndian: true });
      const items = inner.sequence(t, length, depth, true);
      this.offset += length;
      return sequenceElement(t, items);
    }
    if (length === UNDEFINED) {
      if (vr === 'OB' || vr === 'OW') return encapsulatedElement(t, vr, this.fragments(t));
      throw new DicomParseError('bad-length', `undefined length on a ${vr} element`, start, t);
    }
    this.need(length, `the value of a ${vr} element (declared length ${length})`, t);
    let value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    if (!this.ctx.littleEndian) value = toLittleEndian(value, vr);
    return valueElement(t, vr, value);
  }

  private sequence(t: Tag, length: number, depth: number, implicitInside: boolean): Element[][] {
    if (depth + 1 > MAX_SEQUENCE_DEPTH) {
      throw new DicomParseError('too-deep', `sequences nested deeper than ${MAX_SEQUENCE_DEPTH} levels`, this.offset, t);
    }
    const ctx: Context = implicitInside ? { ...this.ctx, explicitVR: false, littleEndian: true } : this.ctx;
    const reader = ctx === this.ctx ? this : new Reader(this.bytes, this.offset, ctx);
    const end = length === UNDEFINED ? this.bytes.length : this.offset + length;
    if (end > this.bytes.length) throw new DicomParseError('truncated', `sequence length ${length} runs past the end of the data`, this.offset, t);
    const items: Element[][] = [];
    while (reader.offset < end) {
      const itemTag = reader.readTag();
      reader.need(4, 'an item length', t);
      const itemLength = reader.u32(reader.offset);
      reader.offset += 4;
      if (itemTag === SEQUENCE_DELIMITATION) {
        if (length !== UNDEFINED) throw new DicomParseError('bad-item', 'sequence delimiter inside a defined-length sequence', reader.offset, t);
        break;
      }
      // Nor here: what stands where an item tag should is data, perhaps identifying.
      if (itemTag !== ITEM) throw new DicomParseError('bad-item', 'expected an item in the sequence, found something else', reader.offset - 8, t);
      items.push(reader.item(itemLength, depth + 1, end, t));
      if (length === UNDEFINED && reader.offset >= end) {
        throw new DicomParseError('truncated', 'sequence has no sequence delimitation item', reader.offset, t);
      }
    }
    if (reader !== this) this.offset = reader.offset;
    return items;
  }

  private item(length: number, depth: number, sequenceEnd: number, seqTag: Tag): Element[] {
    const elements: Element[] = [];
    if (length !== UNDEFINED) {
      const end = this.offset + length;
      if (end > sequenceEnd) throw new DicomParseError('truncated', `item length ${length} runs past the end of its sequence`, this.offset, seqTag);
      const inner = new Reader(this.bytes.subarray(0, end), this.offset, this.ctx);
      while (inner.offset < end) elements.push(inner.element(depth));
      this.offset = end;
      return elements;
    }
    for (;;) {
      this.need(4, 'an item', seqTag);
      const next = ((this.u16(this.offset) << 16) | this.u16(this.offset + 2)) >>> 0;
      if (next === ITEM_DELIMITATION) {
        this.offset += 8;
        return elements;
      }
      if (this.offset >= sequenceEnd) throw new DicomParseError('truncated', 'item has no item delimitation', this.offset, seqTag);
      elements.push(this.element(depth));
    }
  }

  /** Encapsulated pixel data: walk item headers only, keep the bytes through the sequence delimiter. */
  private fragments(t: Tag): Uint8Array {
    const start = this.offset;
    for (;;) {
      this.need(8, 'an encapsulated pixel data item', t);
      const itemTag = ((this.u16(this.offset) << 16) | this.u16(this.offset + 2)) >>> 0;
      const len = this.u32(this.offset + 4);
      this.offset += 8;
      if (itemTag === SEQUENCE_DELIMITATION) return this.bytes.subarray(start, this.offset);
      if (itemTag !== ITEM || len === UNDEFINED) {
        throw new DicomParseError('bad-item', 'malformed encapsulated pixel data item', this.offset - 8, t);
      }
      this.need(len, `an encapsulated fragment of ${len} bytes`, t);
      this.offset += len;
    }
  }
}

function implicitVR(t: Tag, length: number, pixelRepresentation: number): VR {
  const entry = lookup(t);
  if (!entry) {
    if (isPrivate(t) && (t & 0xffff) >= 0x10 && (t & 0xffff) <= 0xff) return 'LO'; // private creator
    return length === UNDEFINED ? 'SQ' : 'UN';
  }
  const vr = entry.vr;
  if (isVR(vr)) return vr;
  if (vr.startsWith('US|SS')) return pixelRepresentation === 1 ? 'SS' : 'US';
  if (vr === 'OB|OW' || vr === 'US|OW') return 'OW';
  return 'UN';
}

/**
 * Values are views of the bytes read. A Buffer's views are Buffers, a class of their own to the
 * engine: reading through a plain Uint8Array keeps every value of one class, whatever the caller
 * passed (DIMSE gives Buffers, the writer makes Uint8Arrays).
 */
function plainView(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Big-endian values become little-endian copies, unit by unit, so the rest of the engine sees one byte order. */
function toLittleEndian(value: Uint8Array, vr: VR): Uint8Array {
  const w = swapWidth(vr);
  if (w < 2) return value;
  const out = new Uint8Array(value.length);
  const n = value.length - (value.length % w);
  for (let i = 0; i < n; i += w) for (let j = 0; j < w; j++) out[i + j] = value[i + w - 1 - j];
  out.set(value.subarray(n), n);
  return out;
}

/** The transfer syntax de-identified output is written in: the input's when it is encapsulated, else EVRLE. */
export function outputTransferSyntax(input: TransferSyntax): string {
  return input.encapsulated ? input.uid : EXPLICIT_VR_LITTLE_ENDIAN;
}
