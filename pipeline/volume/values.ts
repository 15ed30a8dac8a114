/** Reading numbers out of elements, leniently: DS/IS text, or binary US/SS/UL/FL/FD when a writer chose those. */
import { dicom } from '../../anonymizer/index.js';

type Dataset = dicom.Dataset;
type Element = dicom.Element;

/** Every number of a multi-valued element; NaN where a value is not a number. Empty when absent. */
export function numbersOf(el: Element | undefined): number[] {
  if (!el) return [];
  const v = el.value;
  if (!v) return [];
  const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const binary = (width: number, read: (at: number) => number): number[] => {
    const out: number[] = [];
    for (let at = 0; at + width <= v.length; at += width) out.push(read(at));
    return out;
  };
  switch (el.vr) {
    case 'US': return binary(2, (at) => view.getUint16(at, true));
    case 'SS': return binary(2, (at) => view.getInt16(at, true));
    case 'UL': return binary(4, (at) => view.getUint32(at, true));
    case 'SL': return binary(4, (at) => view.getInt32(at, true));
    case 'FL': return binary(4, (at) => view.getFloat32(at, true));
    case 'FD': return binary(8, (at) => view.getFloat64(at, true));
    default:
      return dicom.stringsOf(el).map((s) => (s === '' ? Number.NaN : Number(s)));
  }
}

/** The first number of an element, or undefined when absent, empty or not a number. */
export function numberOf(el: Element | undefined): number | undefined {
  const n = numbersOf(el)[0];
  return n === undefined || Number.isNaN(n) ? undefined : n;
}

/** Exactly `count` finite numbers, or undefined. */
export function vectorOf(el: Element | undefined, count: number): number[] | undefined {
  const ns = numbersOf(el);
  return ns.length === count && ns.every(Number.isFinite) ? ns : undefined;
}

/** The first item of a sequence, or undefined. */
export function firstItem(ds: Dataset | undefined, tag: number): Dataset | undefined {
  if (!ds) return undefined;
  return dicom.find(ds, tag)?.items?.[0];
}

/** A UI/CS/LO value, trimmed; empty string when absent. */
export function textOf(ds: Dataset, tag: number): string {
  return (dicom.stringOf(dicom.find(ds, tag)) ?? '').trim();
}
