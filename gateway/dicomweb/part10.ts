/**
 * Just enough of a DICOM Part 10 reader for STOW-RS to answer the sender in its own terms:
 * the File Meta Information (SOP Class, SOP Instance, Transfer Syntax) and, when the request
 * names a study, the dataset's Study Instance UID. It walks the elements without decoding
 * values it does not need, and stops at the first element past the one it looks for.
 * The full parse belongs to the edge (`InstanceIngest`); this never sees pixel data.
 */
import { Inflate } from 'fflate';

/** File Meta Information of a Part 10 file (PS3.10 §7.1). */
export interface Part10Meta {
  /** (0002,0002) Media Storage SOP Class UID. */
  sopClassUID: string;
  /** (0002,0003) Media Storage SOP Instance UID. */
  sopInstanceUID: string;
  /** (0002,0010) Transfer Syntax UID. */
  transferSyntaxUID: string;
  /** Offset of the dataset, just past the file meta group. */
  datasetOffset: number;
}

export type Part10Result<T> = { ok: true; value: T } | { ok: false; message: string };

const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
const EXPLICIT_VR_BE = '1.2.840.10008.1.2.2';
const DEFLATED_EXPLICIT_VR_LE = '1.2.840.10008.1.2.1.99';

/** VRs whose explicit encoding has a 2-byte reserved field and a 4-byte length (PS3.5 §7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 32;
/** A deflated dataset is inflated only this far while looking for a top-level attribute. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

/** Reads the preamble, `DICM` and the File Meta Information group. */
export function readPart10Meta(bytes: Uint8Array): Part10Result<Part10Meta> {
  if (bytes.length < 132) return { ok: false, message: `${bytes.length} bytes: too short for a DICOM Part 10 file` };
  if (bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) {
    return { ok: false, message: 'not a DICOM Part 10 file: no "DICM" after the 128-byte preamble' };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<number, string>();
  let off = 132;
  while (off + 8 <= bytes.length) {
    const group = view.getUint16(off, true);
    if (group !== 0x0002) break;
    const element = view.getUint16(off + 2, true);
    const vr = String.fromCharCode(bytes[off + 4], bytes[off + 5]);
    if (!/^[A-Z]{2}$/.test(vr)) {
      return { ok: false, message: `file meta element (0002,${hex4(element)}) has no explicit VR` };
    }
    let len: number;
    let valueOff: number;
    if (LONG_VRS.has(vr)) {
      if (off + 12 > bytes.length) break;
      len = view.getUint32(off + 8, true);
      valueOff = off + 12;
    } else {
      len = view.getUint16(off + 6, true);
      valueOff = off + 8;
    }
    if (len === UNDEFINED || valueOff + len > bytes.length) {
      return { ok: false, message: `file meta element (0002,${hex4(element)}) has an impossible length` };
    }
    if (vr === 'UI') values.set(element, uidValue(bytes.subarray(valueOff, valueOff + len)));
    off = valueOff + len;
  }
  const sopClassUID = values.get(0x0002);
  const sopInstanceUID = values.get(0x0003);
  const transferSyntaxUID = values.get(0x0010);
  const missing = [
    !sopClassUID && '(0002,0002) MediaStorageSOPClassUID',
    !sopInstanceUID && '(0002,0003) MediaStorageSOPInstanceUID',
    !transferSyntaxUID && '(0002,0010) TransferSyntaxUID',
  ].filter(Boolean);
  if (missing.length > 0) return { ok: false, message: `file meta information lacks ${missing.join(', ')}` };
  return {
    ok: true,
    value: { sopClassUID: sopClassUID!, sopInstanceUID: sopInstanceUID!, transferSyntaxUID: transferSyntaxUID!, datasetOffset: off },
  };
}

/**
 * The dataset's Study Instance UID (0020,000D), `null` when the dataset has none. Handles
 * implicit and explicit VR, big endian, deflate, and undefined-length sequences before it.
 */
export function readStudyInstanceUID(bytes: Uint8Array, meta: Part10Meta): Part10Result<string | null> {
  const tag = 0x0020000d;
  const ts = meta.transferSyntaxUID;
  if (ts === DEFLATED_EXPLICIT_VR_LE) {
    return findInDeflated(bytes.subarray(meta.datasetOffset), tag);
  }
  const data = bytes.subarray(meta.datasetOffset);
  const scan = findTopLevel(data, tag, sniffEncoding(data, {
    littleEndian: ts !== EXPLICIT_VR_BE,
    explicit: ts !== IMPLICIT_VR_LE,
  }));
  if (scan.kind === 'found') return { ok: true, value: scan.value };
  if (scan.kind === 'absent') return { ok: true, value: null };
  return { ok: false, message: scan.kind === 'truncated' ? 'the dataset ends inside an element' : scan.message };
}

interface Encoding {
  littleEndian: boolean;
  explicit: boolean;
}

const VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/**
 * Some writers declare an explicit VR transfer syntax and encode the dataset implicitly (or the
 * reverse). Read leniently, as pydicom and DCMTK do: the first element tells which it is.
 */
function sniffEncoding(data: Uint8Array, declared: Encoding): Encoding {
  if (data.length < 8) return declared;
  const looksExplicit = VRS.has(String.fromCharCode(data[4], data[5]));
  return looksExplicit === declared.explicit ? declared : { ...declared, explicit: looksExplicit };
}

type Scan =
  | { kind: 'found'; value: string }
  | { kind: 'absent' }
  | { kind: 'truncated' }
  | { kind: 'error'; message: string };

class Truncated extends Error {}
class Malformed extends Error {}

/**
 * Walks the top level of a dataset for `target` (group << 16 | element). `complete` is false
 * when `data` is only a prefix of the dataset (while inflating), so running out is not absence.
 */
function findTopLevel(data: Uint8Array, target: number, enc: Encoding, complete = true): Scan {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  try {
    let off = 0;
    while (off < data.length) {
      const el = readElementHeader(data, view, off, enc);
      const tag = el.tag;
      if (tag === target) {
        if (el.length === UNDEFINED) return { kind: 'error', message: 'StudyInstanceUID has an undefined length' };
        if (el.valueOffset + el.length > data.length) return { kind: 'truncated' };
        return { kind: 'found', value: uidValue(data.subarray(el.valueOffset, el.valueOffset + el.length)) };
      }
      // Tags ascend in a valid dataset; past the target it is not there.
      if (tag >>> 0 > target) return { kind: 'absent' };
      off = skipValue(data, view, el, enc, 0);
    }
    return complete ? { kind: 'absent' } : { kind: 'truncated' };
  } catch (err) {
    if (err instanceof Truncated) return { kind: 'truncated' };
    if (err instanceof Malformed) return { kind: 'error', message: err.message };
    throw err;
  }
}

interface ElementHeader {
  tag: number;
  vr: string | undefined;
  length: number;
  valueOffset: number;
}

function readElementHeader(data: Uint8Array, view: DataView, off: number, enc: Encoding): ElementHeader {
  if (off + 8 > data.length) throw new Truncated();
  const group = view.getUint16(off, enc.littleEndian);
  const element = view.getUint16(off + 2, enc.littleEndian);
  const tag = ((group << 16) | element) >>> 0;
  // Item and delimitation tags never carry a VR, whatever the transfer syntax.
  if (group === 0xfffe || !enc.explicit) {
    return { tag, vr: undefined, length: view.getUint32(off + 4, enc.littleEndian), valueOffset: off + 8 };
  }
  const vr = String.fromCharCode(data[off + 4], data[off + 5]);
  if (!/^[A-Z]{2}$/.test(vr)) throw new Malformed(`element (${hex4(group)},${hex4(element)}) has no valid explicit VR`);
  if (LONG_VRS.has(vr)) {
    if (off + 12 > data.length) throw new Truncated();
    return { tag, vr, length: view.getUint32(off + 8, enc.littleEndian), valueOffset: off + 12 };
  }
  return { tag, vr, length: view.getUint16(off + 6, enc.littleEndian), valueOffset: off + 8 };
}

/** Returns the offset just past the element's value, walking undefined-length values. */
function skipValue(data: Uint8Array, view: DataView, el: ElementHeader, enc: Encoding, depth: number): number {
  if (el.length !== UNDEFINED) {
    const end = el.valueOffset + el.length;
    if (end > data.length) throw new Truncated();
    return end;
  }
  if (depth >= MAX_DEPTH) throw new Malformed(`sequences nested deeper than ${MAX_DEPTH}`);
  // An undefined-length UN holds implicit VR little endian content (PS3.5 §6.2.2).
  const inner: Encoding = el.vr === 'UN' ? { littleEndian: true, explicit: false } : enc;
  // Items until the Sequence Delimitation Item; also covers encapsulated pixel data fragments.
  let off = el.valueOffset;
  for (;;) {
    const item = readElementHeader(data, view, off, inner);
    if (item.tag === 0xfffee0dd) return item.valueOffset;
    if (item.tag !== 0xfffee000) {
      throw new Malformed(`expected an item in an undefined-length value, found (${hex4(item.tag >>> 16)},${hex4(item.tag & 0xffff)})`);
    }
    if (item.length !== UNDEFINED) {
      off = item.valueOffset + item.length;
      if (off > data.length) throw new Truncated();
      continue;
    }
    // Undefined-length item: its elements until the Item Delimitation Item.
    off = item.valueOffset;
    for (;;) {
      const child = readElementHeader(data, view, off, inner);
      if (child.tag === 0xfffee00d) {
        off = child.valueOffset;
        break;
      }
      off = skipValue(data, view, child, inner, depth + 1);
    }
  }
}

function findInDeflated(compressed: Uint8Array, target: number): Part10Result<string | null> {
  const pieces: Uint8Array[] = [];
  let total = 0;
  const inflater = new Inflate((chunk) => {
    pieces.push(chunk);
    total += chunk.length;
  });
  const step = 64 * 1024;
  let scan: Scan = { kind: 'truncated' };
  try {
    for (let off = 0; off < compressed.length; off += step) {
      const last = off + step >= compressed.length;
      inflater.push(compressed.subarray(off, off + step), last);
      const data = concat(pieces, total);
      pieces.length = 0;
      pieces.push(data);
      scan = findTopLevel(data, target, { littleEndian: true, explicit: true }, last);
      if (scan.kind !== 'truncated') break;
      if (total > MAX_INFLATED_BYTES) {
        return { ok: false, message: `StudyInstanceUID not found in the first ${MAX_INFLATED_BYTES} inflated bytes` };
      }
    }
  } catch (err) {
    return { ok: false, message: `the deflated dataset cannot be inflated: ${(err as Error).message}` };
  }
  if (scan.kind === 'found') return { ok: true, value: scan.value };
  if (scan.kind === 'absent') return { ok: true, value: null };
  return { ok: false, message: scan.kind === 'truncated' ? 'the deflated dataset ends inside an element' : scan.message };
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of pieces) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A UI value without its trailing NUL / space padding. */
function uidValue(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1').replace(/[\0 ]+$/, '');
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}
