/**
 * Text values in the instance's character set (PS3.3 C.12.1.1.2, PS3.5 §6.1) to Unicode, for
 * DICOM JSON and for the attributes an index keeps. Single-byte sets, UTF-8, GB18030 and GBK decode whole; the ISO 2022 sets follow
 * their escape sequences, and every value (and, for PN, every component) starts again in the
 * initial designation, as PS3.5 §6.1.2.5.3 requires. Unknown terms fall back to ISO 8859-1,
 * which never fails and loses nothing: every byte maps to one code point.
 */
import { find, stringsOf, type Dataset } from './element.js';
import { T } from './tag.js';

/** How a value's bytes are decoded; built once per SpecificCharacterSet. */
export interface TextDecoding {
  /** Decodes a text value; `pn` makes `^` and `=` reset the code extensions too. */
  decode(bytes: Uint8Array, pn?: boolean): string;
}

type SingleByte = (bytes: Uint8Array) => string;

const ESC = 0x1b;

/** ISO 8859-1 by code point: WHATWG's "latin1" label is windows-1252, which differs at 0x80–0x9F. */
function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

const decoders = new Map<string, TextDecoder | null>();
function whatwg(label: string): SingleByte {
  return (bytes) => {
    let d = decoders.get(label);
    if (d === undefined) {
      try {
        d = new TextDecoder(label);
      } catch {
        d = null; // a Node built without this encoding
      }
      decoders.set(label, d);
    }
    return d ? d.decode(bytes) : latin1(bytes);
  };
}

/** Defined Terms without code extensions (PS3.3 Table C.12-2, C.12-4) → decoder. */
const WHOLE: Record<string, SingleByte> = {
  '': latin1,
  ISO_IR_6: latin1,
  'ISO_IR 6': latin1,
  'ISO_IR 100': latin1,
  'ISO_IR 101': whatwg('iso-8859-2'),
  'ISO_IR 109': whatwg('iso-8859-3'),
  'ISO_IR 110': whatwg('iso-8859-4'),
  'ISO_IR 144': whatwg('iso-8859-5'),
  'ISO_IR 127': whatwg('iso-8859-6'),
  'ISO_IR 126': whatwg('iso-8859-7'),
  'ISO_IR 138': whatwg('iso-8859-8'),
  'ISO_IR 148': whatwg('iso-8859-9'),
  'ISO_IR 203': whatwg('iso-8859-15'),
  'ISO_IR 13': whatwg('shift_jis'),
  'ISO_IR 166': whatwg('windows-874'),
  'ISO_IR 192': whatwg('utf-8'),
  GB18030: whatwg('gb18030'),
  GBK: whatwg('gbk'),
};

/** What a G0 or G1 designation decodes: one byte per character, or two. */
interface Designation {
  width: 1 | 2;
  decode: SingleByte;
}

const ascii: Designation = { width: 1, decode: latin1 };
const sjis = whatwg('shift_jis');
/** G0 two-byte sets arrive as 7-bit pairs; with the high bit set they are their EUC form. */
const eucJp = whatwg('euc-jp');
const jisX0208: Designation = { width: 2, decode: (b) => eucJp(b.map((x) => x | 0x80)) };
const jisX0212: Designation = {
  width: 2,
  decode: (b) => {
    const out = new Uint8Array((b.length / 2) * 3);
    for (let i = 0, o = 0; i + 1 < b.length; i += 2) {
      out[o++] = 0x8f;
      out[o++] = b[i] | 0x80;
      out[o++] = b[i + 1] | 0x80;
    }
    return eucJp(out);
  },
};
// G1 sets get their bytes as they are, high bit set: single bytes of Shift_JIS, EUC-KR and GBK.
const katakana: Designation = { width: 1, decode: sjis };
const ksx1001: Designation = { width: 2, decode: whatwg('euc-kr') };
const gb2312: Designation = { width: 2, decode: whatwg('gbk') };
const upper = (decode: SingleByte): Designation => ({ width: 1, decode });

/** ISO 2022 Defined Terms → the designations they make (PS3.3 Table C.12-3, C.12-4). */
const ISO2022: Record<string, { g0?: Designation; g1?: Designation }> = {
  'ISO 2022 IR 6': { g0: ascii },
  'ISO 2022 IR 100': { g0: ascii, g1: upper(latin1) },
  'ISO 2022 IR 101': { g0: ascii, g1: upper(whatwg('iso-8859-2')) },
  'ISO 2022 IR 109': { g0: ascii, g1: upper(whatwg('iso-8859-3')) },
  'ISO 2022 IR 110': { g0: ascii, g1: upper(whatwg('iso-8859-4')) },
  'ISO 2022 IR 144': { g0: ascii, g1: upper(whatwg('iso-8859-5')) },
  'ISO 2022 IR 127': { g0: ascii, g1: upper(whatwg('iso-8859-6')) },
  'ISO 2022 IR 126': { g0: ascii, g1: upper(whatwg('iso-8859-7')) },
  'ISO 2022 IR 138': { g0: ascii, g1: upper(whatwg('iso-8859-8')) },
  'ISO 2022 IR 148': { g0: ascii, g1: upper(whatwg('iso-8859-9')) },
  'ISO 2022 IR 203': { g0: ascii, g1: upper(whatwg('iso-8859-15')) },
  'ISO 2022 IR 166': { g0: ascii, g1: upper(whatwg('windows-874')) },
  'ISO 2022 IR 13': { g0: ascii, g1: katakana },
  'ISO 2022 IR 87': { g0: jisX0208 },
  'ISO 2022 IR 159': { g0: jisX0212 },
  'ISO 2022 IR 149': { g1: ksx1001 },
  'ISO 2022 IR 58': { g1: gb2312 },
};

/** Escape sequences (without ESC) → the designation they switch to. */
const ESCAPES: Array<{ seq: number[]; g0?: Designation; g1?: Designation }> = [
  { seq: [0x28, 0x42], g0: ascii }, // ( B  ISO-IR 6
  { seq: [0x28, 0x4a], g0: ascii }, // ( J  JIS X 0201 Romaji: as pydicom and DCMTK, read as ASCII
  { seq: [0x29, 0x49], g1: katakana }, // ) I  JIS X 0201 Katakana
  { seq: [0x24, 0x42], g0: jisX0208 }, // $ B
  { seq: [0x24, 0x28, 0x44], g0: jisX0212 }, // $ ( D
  { seq: [0x24, 0x29, 0x43], g1: ksx1001 }, // $ ) C
  { seq: [0x24, 0x29, 0x41], g1: gb2312 }, // $ ) A
  { seq: [0x2d, 0x41], g1: ISO2022['ISO 2022 IR 100'].g1 },
  { seq: [0x2d, 0x42], g1: ISO2022['ISO 2022 IR 101'].g1 },
  { seq: [0x2d, 0x43], g1: ISO2022['ISO 2022 IR 109'].g1 },
  { seq: [0x2d, 0x44], g1: ISO2022['ISO 2022 IR 110'].g1 },
  { seq: [0x2d, 0x4c], g1: ISO2022['ISO 2022 IR 144'].g1 },
  { seq: [0x2d, 0x47], g1: ISO2022['ISO 2022 IR 127'].g1 },
  { seq: [0x2d, 0x46], g1: ISO2022['ISO 2022 IR 126'].g1 },
  { seq: [0x2d, 0x48], g1: ISO2022['ISO 2022 IR 138'].g1 },
  { seq: [0x2d, 0x4d], g1: ISO2022['ISO 2022 IR 148'].g1 },
  { seq: [0x2d, 0x62], g1: ISO2022['ISO 2022 IR 203'].g1 },
  { seq: [0x2d, 0x54], g1: ISO2022['ISO 2022 IR 166'].g1 },
];

/** The decoding for a SpecificCharacterSet (its values as read, possibly empty). */
export function textDecoding(specificCharacterSet: readonly string[]): TextDecoding {
  const terms = specificCharacterSet.map((t) => t.trim());
  if (terms.length <= 1 && !(terms[0] ?? '').startsWith('ISO 2022')) {
    const whole = WHOLE[terms[0] ?? ''] ?? latin1;
    return { decode: (bytes) => whole(bytes) };
  }
  // Code extensions: the first value is the initial designation ('' = the default repertoire).
  const initial = ISO2022[terms[0]] ?? { g0: ascii };
  return { decode: (bytes, pn = false) => decode2022(bytes, initial.g0 ?? ascii, initial.g1, pn) };
}

/** Decoding with no SpecificCharacterSet: the default repertoire, read leniently as ISO 8859-1. */
export const DEFAULT_DECODING: TextDecoding = { decode: (bytes) => latin1(bytes) };

function decode2022(bytes: Uint8Array, g0Initial: Designation, g1Initial: Designation | undefined, pn: boolean): string {
  let g0 = g0Initial;
  let g1 = g1Initial;
  let out = '';
  let i = 0;
  const run = (from: number, to: number): void => {
    // Within a run: bytes below 0x80 are G0, bytes from 0x80 up are G1.
    let k = from;
    while (k < to) {
      const high = bytes[k] >= 0x80;
      let end = k;
      while (end < to && bytes[end] >= 0x80 === high) end++;
      const chunk = bytes.subarray(k, end);
      const d = high ? g1 : g0;
      if (!d) out += latin1(chunk);
      else if (d.width === 2) out += d.decode(chunk.subarray(0, chunk.length - (chunk.length % 2))) + latin1(chunk.subarray(chunk.length - (chunk.length % 2)));
      else out += d.decode(chunk);
      k = end;
    }
  };
  let start = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b === ESC) {
      run(start, i);
      const match = ESCAPES.find((e) => e.seq.every((s, j) => bytes[i + 1 + j] === s));
      if (match) {
        if (match.g0) g0 = match.g0;
        if (match.g1) g1 = match.g1;
        i += 1 + match.seq.length;
      } else {
        out += '\x1b';
        i += 1;
      }
      start = i;
      continue;
    }
    // A delimiter only counts in a one-byte G0 state: in JIS X 0208 the same byte is half a character.
    const delimiter = b === 0x5c || (pn && (b === 0x5e || b === 0x3d));
    if (delimiter && g0.width === 1) {
      run(start, i);
      out += String.fromCharCode(b);
      g0 = g0Initial;
      g1 = g1Initial;
      i += 1;
      start = i;
      continue;
    }
    i += g0.width === 2 && b < 0x80 ? 2 : 1;
  }
  run(start, Math.min(i, bytes.length));
  return out;
}

/** The decoding of a dataset: its own SpecificCharacterSet, else what it inherits (an item inherits its dataset's). */
export function decodingOf(dataset: Dataset, inherited: TextDecoding = DEFAULT_DECODING): TextDecoding {
  const cs = find(dataset, T.SpecificCharacterSet);
  return cs ? textDecoding(stringsOf(cs)) : inherited;
}
