/**
 * The DICOM JSON Model (PS3.18 Annex F) of a dataset: every VR, text in the instance's character
 * set, sequences nested, small binary values inline (base64) and large ones, pixel data always,
 * as a BulkDataURI the caller builds. Read leniently: a number that does not parse stays text
 * rather than vanish, and a value of the wrong length keeps its whole units.
 */
import { dicom } from '../../anonymizer/index.js';

type Element = dicom.Element;
type Dataset = dicom.Dataset;
type TextDecoding = dicom.TextDecoding;
const { DEFAULT_DECODING, decodingOf } = dicom;

export const DICOM_JSON = 'application/dicom+json';

/** One attribute (PS3.18 §F.2.2). */
export interface JsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** A dataset: attributes by 8-digit uppercase hex tag, in ascending tag order. */
export type JsonDataset = Record<string, JsonAttribute>;

/** Where a value sits: a top-level tag, or tag, item index, tag... down into sequences. */
export type AttributePath = readonly number[];

export interface DicomJsonOptions {
  /** The BulkDataURI of the binary value at `path`; without it every binary value is inline. */
  bulkDataURI?: (path: AttributePath) => string;
  /** Binary values longer than this many bytes go by BulkDataURI (when one can be built). */
  maxInlineBinaryBytes?: number;
  /** Top-level attributes to keep; every one when absent. */
  include?: (tag: number) => boolean;
}

/** Binary values up to this size are inline: an ICC profile or a small LUT, not pixel data. */
export const DEFAULT_MAX_INLINE_BINARY_BYTES = 1024;

/** Pixel data in all its forms always goes by reference, whatever its size. */
const ALWAYS_BULK = new Set<number>([0x7fe00010, 0x7fe00008, 0x7fe00009]);
const BINARY = new Set<string>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
/** Text VRs whose bytes follow SpecificCharacterSet; the others are the default repertoire. */
const CHARSET_TEXT = new Set<string>(['SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC']);
/** Text VRs with a single value: a backslash in them is a character (PS3.5 Table 6.2-1). */
const SINGLE_VALUED = new Set<string>(['LT', 'ST', 'UT', 'UR']);

/** The dataset as DICOM JSON; the file meta group (0002,xxxx) is never part of it. */
export function toDicomJson(dataset: Dataset, options: DicomJsonOptions = {}): JsonDataset {
  return convertDataset(dataset, decodingOf(dataset, DEFAULT_DECODING), options, [], true);
}

/** One element as DICOM JSON, with the dataset's character set. */
export function elementToJson(el: Element, decoding: TextDecoding = DEFAULT_DECODING, options: DicomJsonOptions = {}, path: AttributePath = [el.tag]): JsonAttribute {
  return convertElement(el, decoding, options, path);
}

/**
 * DICOM JSON text with every dataset's attributes in ascending tag order, as PS3.18 §F.2.2 asks.
 * `JSON.stringify` cannot be trusted with it: an object lists its integer-like keys first, so a
 * tag of digits only (20200020, 30060020, 60003000) would come before 00080005.
 */
export function stringifyDicomJson(value: JsonDataset | readonly JsonDataset[]): string {
  return Array.isArray(value) ? `[${(value as readonly JsonDataset[]).map(datasetText).join(',')}]` : datasetText(value as JsonDataset);
}

function datasetText(ds: JsonDataset): string {
  const members: string[] = [];
  for (const key of Object.keys(ds).sort()) members.push(`"${key}":${attributeText(ds[key])}`);
  return `{${members.join(',')}}`;
}

function attributeText(a: JsonAttribute): string {
  if (a.vr !== 'SQ' || !a.Value) return JSON.stringify(a);
  return `{"vr":"SQ","Value":[${(a.Value as JsonDataset[]).map(datasetText).join(',')}]}`;
}

/** The 8-digit uppercase hex key of a tag. */
export function tagKey(tag: number): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

function convertDataset(ds: Dataset, decoding: TextDecoding, options: DicomJsonOptions, path: number[], top: boolean): JsonDataset {
  const out: JsonDataset = {};
  const sorted = [...ds].sort((a, b) => a.tag - b.tag);
  for (const el of sorted) {
    if (el.tag >>> 16 === 0x0002) continue;
    if (top && options.include && !options.include(el.tag)) continue;
    out[tagKey(el.tag)] = convertElement(el, decoding, options, [...path, el.tag]);
  }
  return out;
}

function convertElement(el: Element, decoding: TextDecoding, options: DicomJsonOptions, path: number[] | AttributePath): JsonAttribute {
  const vr = el.vr;
  if (el.items) {
    if (el.items.length === 0) return { vr: 'SQ' };
    return {
      vr: 'SQ',
      Value: el.items.map((item, i) => convertDataset(item, decodingOf(item, decoding), options, [...path, i], false)),
    };
  }
  if (el.fragments || BINARY.has(vr)) return binary(el, options, path);
  const value = el.value;
  if (!value || value.length === 0) return { vr };
  switch (vr) {
    case 'US': return numbers(vr, value, 2, (d, o) => d.getUint16(o, true));
    case 'SS': return numbers(vr, value, 2, (d, o) => d.getInt16(o, true));
    case 'UL': return numbers(vr, value, 4, (d, o) => d.getUint32(o, true));
    case 'SL': return numbers(vr, value, 4, (d, o) => d.getInt32(o, true));
    case 'FL': return numbers(vr, value, 4, (d, o) => d.getFloat32(o, true));
    case 'FD': return numbers(vr, value, 8, (d, o) => d.getFloat64(o, true));
    case 'SV': return numbers(vr, value, 8, (d, o) => bigNumber(d.getBigInt64(o, true)));
    case 'UV': return numbers(vr, value, 8, (d, o) => bigNumber(d.getBigUint64(o, true)));
    case 'AT': return numbers(vr, value, 4, (d, o) => tagKey(((d.getUint16(o, true) << 16) | d.getUint16(o + 2, true)) >>> 0));
  }
  const text = CHARSET_TEXT.has(vr) ? decoding.decode(value, vr === 'PN') : DEFAULT_DECODING.decode(value);
  const values = SINGLE_VALUED.has(vr) ? [text] : text.split('\\');
  const trimmed = values.map((v) => (vr === 'AE' ? v.trim() : v.replace(/[\0 ]+$/, '')));
  if (trimmed.length === 1 && trimmed[0] === '') return { vr };
  switch (vr) {
    case 'PN': return { vr, Value: trimmed.map(personName) };
    case 'IS': return { vr, Value: trimmed.map((v) => number(v, true)) };
    case 'DS': return { vr, Value: trimmed.map((v) => number(v, false)) };
    default: return { vr, Value: trimmed.map((v) => (v === '' ? null : v)) };
  }
}

function binary(el: Element, options: DicomJsonOptions, path: number[] | AttributePath): JsonAttribute {
  const vr = el.vr;
  const size = el.fragments ? el.fragments.length : (el.value?.length ?? 0);
  if (size === 0) return { vr };
  const max = options.maxInlineBinaryBytes ?? DEFAULT_MAX_INLINE_BINARY_BYTES;
  const bulk = el.fragments !== undefined || size > max || (path.length === 1 && ALWAYS_BULK.has(el.tag));
  if (bulk && options.bulkDataURI) return { vr, BulkDataURI: options.bulkDataURI(path) };
  // Encapsulated pixel data has no inline form (Annex F inlines values, not item sequences).
  if (el.fragments) return { vr };
  const v = el.value!;
  return { vr, InlineBinary: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
}

function numbers(vr: string, value: Uint8Array, width: number, read: (d: DataView, offset: number) => unknown): JsonAttribute {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: unknown[] = [];
  for (let o = 0; o + width <= value.length; o += width) out.push(read(view, o));
  return out.length ? { vr, Value: out } : { vr };
}

/** A 64-bit integer as a JSON number when it is exact, else as a decimal string. */
function bigNumber(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function number(v: string, integer: boolean): number | string | null {
  const t = v.trim();
  if (t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return t;
  return n;
}

/** PN as its alphabetic, ideographic and phonetic groups (PS3.18 §F.2.2); empty groups left out. */
function personName(v: string): Record<string, string> | null {
  if (v === '') return null;
  const [alphabetic, ideographic, phonetic] = v.split('=');
  const out: Record<string, string> = {};
  if (alphabetic) out.Alphabetic = alphabetic;
  if (ideographic) out.Ideographic = ideographic;
  if (phonetic) out.Phonetic = phonetic;
  return out;
}
