/** The in-memory dataset model: values stay views into the bytes they were read from. */
import type { Tag } from './tag.js';
import type { VR } from './vr.js';

export interface Element {
  tag: Tag;
  vr: VR;
  /** The value in little-endian byte order, without padding removed; absent for SQ and encapsulated data. */
  value?: Uint8Array;
  /** Items of a sequence. */
  items?: Element[][];
  /**
   * Encapsulated pixel data: the bytes of every item and the sequence delimiter as read, copied
   * through unchanged so compressed frames (and their one-fragment-per-frame layout) are preserved.
   */
  fragments?: Uint8Array;
}

/*
 * Elements are made by these three functions only, so every element has the same fields in the
 * same order and the engine sees one object shape: code compiled while it had met only value
 * elements is thrown away (deoptimized) when the first sequence arrives in another shape.
 */

/** An element with a value (the bytes in little-endian order). */
export function valueElement(tag: Tag, vr: VR, value: Uint8Array): Element {
  return { tag, vr, value, items: undefined, fragments: undefined };
}

/** A sequence (SQ) and its items. */
export function sequenceElement(tag: Tag, items: Element[][]): Element {
  return { tag, vr: 'SQ', value: undefined, items, fragments: undefined };
}

/** Encapsulated pixel data, as read (items and sequence delimiter). */
export function encapsulatedElement(tag: Tag, vr: VR, fragments: Uint8Array): Element {
  return { tag, vr, value: undefined, items: undefined, fragments };
}

/** A dataset is its elements; the writer orders them by tag. */
export type Dataset = Element[];

const latin1 = new TextDecoder('latin1');

/** The value as a string with trailing padding (space, NUL) removed: for ASCII VRs (UI, CS, DA, ...). */
export function stringOf(el: Element | undefined): string | undefined {
  if (!el?.value) return el ? '' : undefined;
  return latin1.decode(el.value).replace(/[\0 ]+$/, '');
}

/** The values of a multi-valued ASCII element, each trimmed. */
export function stringsOf(el: Element | undefined): string[] {
  const s = stringOf(el);
  return s === undefined || s === '' ? [] : s.split('\\').map((v) => v.trim());
}

/** First element with this tag in a dataset (datasets are small: a linear scan is fastest). */
export function find(ds: Dataset, t: Tag): Element | undefined {
  for (const el of ds) if (el.tag === t) return el;
  return undefined;
}

/** An unsigned 16-bit value (US), or undefined. */
export function uint16Of(el: Element | undefined): number | undefined {
  if (!el?.value || el.value.length < 2) return undefined;
  return el.value[0] | (el.value[1] << 8);
}
