/** Small builders for the elements a SEG is made of, values little endian as the writer expects. */
import { dicom } from '../../anonymizer/index.js';
import { SegError } from './errors.js';
import { TAG } from './tags.js';
import type { TextEncoding } from './text.js';
import type { CodedConcept } from './types.js';

type Element = dicom.Element;

/** An ASCII-only value (UI, CS, DA, TM, DS, IS, AE). */
export const ascii = (tag: number, vr: dicom.VR, text: string): Element => dicom.textElement(tag, vr, text);

/** A value in the SEG's character set (LO, SH, PN, ST, LT, UC). */
export const text = (tag: number, vr: dicom.VR, value: string, enc: TextEncoding): Element => dicom.valueElement(tag, vr, enc.encode(value));

export function us(tag: number, ...values: number[]): Element {
  const value = new Uint8Array(values.length * 2);
  const view = new DataView(value.buffer);
  values.forEach((v, i) => view.setUint16(i * 2, v, true));
  return dicom.valueElement(tag, 'US', value);
}

export function ul(tag: number, ...values: number[]): Element {
  const value = new Uint8Array(values.length * 4);
  const view = new DataView(value.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v, true));
  return dicom.valueElement(tag, 'UL', value);
}

/** An attribute tag value: group then element, each 16-bit little endian. */
export function at(tag: number, pointsTo: number): Element {
  const value = new Uint8Array(4);
  const view = new DataView(value.buffer);
  view.setUint16(0, pointsTo >>> 16, true);
  view.setUint16(2, pointsTo & 0xffff, true);
  return dicom.valueElement(tag, 'AT', value);
}

export const sq = (tag: number, ...items: Element[][]): Element => dicom.sequenceElement(tag, items);

export const is = (tag: number, n: number): Element => ascii(tag, 'IS', String(n));

export const ds = (tag: number, ...values: number[]): Element => ascii(tag, 'DS', values.map(formatDS).join('\\'));

/**
 * A decimal string of at most 16 characters (PS3.5 Table 6.2-1). Values are first rounded to a
 * micrometre-scale 1e-6, which drops float noise (94.30000305 → 94.300003) without moving a
 * position measurably.
 */
export function formatDS(n: number): string {
  if (!Number.isFinite(n)) throw new SegError('invalid-input', `cannot write ${n} as a decimal string`);
  let s = String(Number(n.toFixed(6)));
  if (s === '-0') s = '0';
  for (let p = 15; s.length > 16 && p > 0; p--) s = String(Number(n.toPrecision(p)));
  return s;
}

/** The items of a code sequence: one coded concept. A code value over 16 characters goes in LongCodeValue. */
export function codeItem(code: CodedConcept, enc: TextEncoding): Element[] {
  return [
    code.value.length > 16 ? text(TAG.LongCodeValue, 'UC', code.value, enc) : text(TAG.CodeValue, 'SH', code.value, enc),
    text(TAG.CodingSchemeDesignator, 'SH', code.scheme, enc),
    text(TAG.CodeMeaning, 'LO', code.meaning, enc),
  ];
}

export const codeSequence = (tag: number, code: CodedConcept, enc: TextEncoding): Element => sq(tag, codeItem(code, enc));
