/**
 * Writes datasets in Explicit VR Little Endian (the encoding of every output, encapsulated pixel
 * data included). Values are copied byte for byte; sequences and items get defined lengths.
 * Sizes are computed first so the output is one allocation.
 */
import { valueElement, type Dataset, type Element } from './element.js';
import { ITEM, SEQUENCE_DELIMITATION, T, type Tag } from './tag.js';
import { hasLongLength, padByte, type VR } from './vr.js';

const ascii = new TextEncoder();

/** What the file meta group (PS3.10 §7.1) is built from. */
export interface FileMeta {
  mediaStorageSOPClassUID: string;
  mediaStorageSOPInstanceUID: string;
  transferSyntaxUID: string;
  implementationClassUID: string;
  implementationVersionName: string;
}

/** A Part 10 file: preamble, "DICM", a fresh file meta group, then the dataset. */
export function writePart10(meta: FileMeta, dataset: Dataset): Uint8Array {
  const metaElements: Element[] = [
    valueElement(T.FileMetaInformationVersion, 'OB', new Uint8Array([0, 1])),
    textElement(T.MediaStorageSOPClassUID, 'UI', meta.mediaStorageSOPClassUID),
    textElement(T.MediaStorageSOPInstanceUID, 'UI', meta.mediaStorageSOPInstanceUID),
    textElement(T.TransferSyntaxUID, 'UI', meta.transferSyntaxUID),
    textElement(T.ImplementationClassUID, 'UI', meta.implementationClassUID),
    textElement(T.ImplementationVersionName, 'SH', meta.implementationVersionName),
  ];
  const metaLength = metaElements.reduce((n, el) => n + elementSize(el), 0);
  const groupLength = valueElement(T.FileMetaInformationGroupLength, 'UL', u32le(metaLength));
  const sorted = sortDataset(dataset);
  const total = 132 + elementSize(groupLength) + metaLength + datasetSize(sorted);
  const out = new Uint8Array(total);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  const w = new Writer(out, 132);
  w.element(groupLength);
  for (const el of metaElements) w.element(el);
  for (const el of sorted) w.element(el);
  if (w.offset !== total) throw new Error(`internal: wrote ${w.offset} of ${total} bytes`);
  return out;
}

/** A bare dataset in Explicit VR Little Endian (no preamble, no meta), as DIMSE carries it. */
export function writeDataset(dataset: Dataset): Uint8Array {
  const sorted = sortDataset(dataset);
  const out = new Uint8Array(datasetSize(sorted));
  const w = new Writer(out, 0);
  for (const el of sorted) w.element(el);
  return out;
}

/** An element holding a text value, padded to even length for its VR. */
export function textElement(t: Tag, vr: VR, text: string): Element {
  return valueElement(t, vr, ascii.encode(text));
}

function u32le(n: number): Uint8Array {
  return new Uint8Array([n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]);
}

// Tags compare as unsigned numbers, which is DICOM's required ascending order.
function sortDataset(ds: Dataset): Dataset {
  for (let i = 1; i < ds.length; i++) if (ds[i - 1].tag > ds[i].tag) return [...ds].sort((a, b) => a.tag - b.tag);
  return ds;
}

/** The VR actually written: a value too long for a 2-byte length is written as UN (PS3.5 §6.2.2 note). */
function writtenVR(el: Element): VR {
  if (el.value && !hasLongLength(el.vr) && paddedLength(el) > 0xfffe) return 'UN';
  return el.vr;
}

const paddedLength = (el: Element): number => (el.value ? el.value.length + (el.value.length & 1) : 0);

function headerSize(vr: VR): number {
  return hasLongLength(vr) ? 12 : 8;
}

function itemsSize(items: Element[][]): number {
  let n = 0;
  for (const item of items) n += 8 + datasetSize(sortDataset(item));
  return n;
}

function elementSize(el: Element): number {
  if (el.items) return 12 + itemsSize(el.items);
  if (el.fragments) return 12 + el.fragments.length;
  return headerSize(writtenVR(el)) + paddedLength(el);
}

function datasetSize(ds: Dataset): number {
  let n = 0;
  for (const el of ds) n += elementSize(el);
  return n;
}

class Writer {
  constructor(
    readonly out: Uint8Array,
    public offset: number,
  ) {}

  private u16(v: number): void {
    this.out[this.offset++] = v & 0xff;
    this.out[this.offset++] = (v >>> 8) & 0xff;
  }

  private u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(v >>> 16);
  }

  private tag(t: Tag): void {
    this.u16(t >>> 16);
    this.u16(t & 0xffff);
  }

  private header(t: Tag, vr: VR, length: number): void {
    this.tag(t);
    this.out[this.offset++] = vr.charCodeAt(0);
    this.out[this.offset++] = vr.charCodeAt(1);
    if (hasLongLength(vr)) {
      this.u16(0);
      this.u32(length);
    } else {
      this.u16(length);
    }
  }

  element(el: Element): void {
    if (el.items) {
      this.header(el.tag, 'SQ', itemsSize(el.items));
      for (const item of el.items) {
        const sorted = sortDataset(item);
        this.tag(ITEM);
        this.u32(datasetSize(sorted));
        for (const child of sorted) this.element(child);
      }
      return;
    }
    if (el.fragments) {
      this.header(el.tag, el.vr, 0xffffffff);
      this.out.set(el.fragments, this.offset);
      this.offset += el.fragments.length;
      if (el.fragments.length < 8 || readTagAt(el.fragments, el.fragments.length - 8) !== SEQUENCE_DELIMITATION) {
        throw new Error('internal: encapsulated fragments must end with the sequence delimiter');
      }
      return;
    }
    const vr = writtenVR(el);
    const value = el.value ?? new Uint8Array(0);
    const length = paddedLength(el);
    this.header(el.tag, vr, length);
    this.out.set(value, this.offset);
    this.offset += value.length;
    if (value.length & 1) this.out[this.offset++] = padByte(el.vr);
  }
}

function readTagAt(b: Uint8Array, at: number): number {
  return (((b[at] | (b[at + 1] << 8)) << 16) | (b[at + 2] | (b[at + 3] << 8))) >>> 0;
}
