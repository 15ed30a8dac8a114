/**
 * The Clean (C) action for free text: remove what identifies, keep what describes. Text cannot be
 * understood reliably, so cleaning removes what is known to identify: every value this instance
 * carries in an attribute the profile removes or replaces (names and their components, IDs,
 * addresses, phone numbers, dates...) and any long run of digits (record numbers, phone numbers,
 * dates written in text). It works on the encoded bytes, so it is exact in any character set.
 */

import type { TextDecoding } from './dicom/index.js';

const STAR = 0x2a;

/** The byte strings to scrub, built once per instance from the values being removed. */
export class Scrubber {
  private readonly needles: Uint8Array[] = [];
  private readonly words: Uint8Array[] = [];
  private readonly seen = new Set<string>();

  /** Adds an identifying value (raw bytes of a text element); splits names and multiple values. */
  add(value: Uint8Array): void {
    let start = 0;
    for (let i = 0; i <= value.length; i++) {
      const b = i < value.length ? value[i] : 0x5c;
      // Components of a value: '\' separates values, '^' and '=' name components and groups.
      if (b === 0x5c || b === 0x5e || b === 0x3d) {
        this.addPart(value.subarray(start, i));
        start = i + 1;
      }
    }
    this.addPart(trim(value));
  }

  private addPart(part: Uint8Array): void {
    const p = trim(part);
    if (p.length < 2) return;
    const lowered = lower(p);
    const key = keyOf(lowered);
    if (this.seen.has(key)) return;
    this.seen.add(key);
    // Two-letter parts (short surnames, initials) only as whole words, or "li" would scrub "limen".
    (p.length < 3 ? this.words : this.needles).push(lowered);
  }

  /**
   * A cleaned copy of a text value; the same length, identifying parts replaced by '*'. Without
   * `digits`, only the values this instance carries are replaced, runs of digits are left.
   */
  clean(value: Uint8Array, digits = true): Uint8Array {
    const out = value.slice();
    const hay = lower(value);
    for (const n of this.needles) markAll(hay, n, out, false);
    for (const n of this.words) markAll(hay, n, out, true);
    if (digits) scrubDigitRuns(out);
    return out;
  }
}

function markAll(hay: Uint8Array, needle: Uint8Array, out: Uint8Array, wholeWord: boolean): void {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = 0; i <= last; i++) {
    if (hay[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    if (wholeWord && (isWordByte(hay[i - 1]) || isWordByte(hay[i + needle.length]))) continue;
    out.fill(STAR, i, i + needle.length);
  }
}

/** Five or more digits, possibly split by single separators: record numbers, phones, dates. */
function scrubDigitRuns(out: Uint8Array): void {
  let i = 0;
  while (i < out.length) {
    if (!isDigit(out[i])) {
      i++;
      continue;
    }
    let j = i;
    let digits = 0;
    let end = i;
    while (j < out.length) {
      if (isDigit(out[j])) {
        digits++;
        end = j + 1;
        j++;
      } else if (isSeparator(out[j]) && j + 1 < out.length && isDigit(out[j + 1])) {
        j++;
      } else break;
    }
    if (digits >= 5) out.fill(STAR, i, end);
    i = Math.max(end, i + 1);
  }
}

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isSeparator = (b: number): boolean => b === 0x20 || b === 0x2d || b === 0x2e || b === 0x2f || b === 0x28 || b === 0x29 || b === 0x2b;
const isWordByte = (b: number | undefined): boolean =>
  b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b >= 0x80);

/** A value's bytes as a string, to tell repeats apart (a loop: spreading a typed array into a call is slow). */
function keyOf(b: Uint8Array): string {
  let key = '';
  for (let i = 0; i < b.length; i++) key += String.fromCharCode(b[i]);
  return key;
}

function lower(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[i] >= 0x41 && b[i] <= 0x5a ? b[i] + 32 : b[i];
  return out;
}

function trim(b: Uint8Array): Uint8Array {
  let s = 0;
  let e = b.length;
  while (s < e && (b[s] === 0x20 || b[s] === 0)) s++;
  while (e > s && (b[e - 1] === 0x20 || b[e - 1] === 0)) e--;
  return b.subarray(s, e);
}

/**
 * Clean in a character set whose characters take several bytes that can also spell other ones
 * (ISO 2022 with its escape sequences, GB18030, GBK). Matching bytes there misses a name written
 * in another run of escapes, and cuts characters in two. So values are compared as text, and one
 * that holds anything identifying is emptied: it cannot be written back in its set with the parts
 * taken out. One that holds nothing identifying is kept byte for byte.
 */
export class TextScrubber {
  private readonly needles = new Set<string>();
  private readonly words = new Set<string>();

  constructor(private readonly decoding: TextDecoding) {}

  /** Adds an identifying value; a name (`pn`) is split into its components and groups. */
  add(value: Uint8Array, pn: boolean): void {
    const text = this.decoding.decode(value, pn).normalize('NFKC').toLowerCase();
    for (const part of [text, ...text.split(/[\\^=]/)]) {
      const p = part.replace(/^[\s\0]+|[\s\0]+$/g, '');
      // An ideograph, kana or hangul is a name on its own; a Latin part only from three letters,
      // two-letter ones as whole words (as `Scrubber` does).
      if (IDEOGRAPHIC.test(p) || p.length >= 3) this.needles.add(p);
      else if (p.length === 2) this.words.add(p);
    }
  }

  /** Whether a text value holds an identifying value or (with `digits`) a long run of digits. */
  identifies(value: Uint8Array, digits = true): boolean {
    const text = this.decoding.decode(value).normalize('NFKC').toLowerCase();
    for (const n of this.needles) if (text.includes(n)) return true;
    for (const w of this.words) {
      for (let at = text.indexOf(w); at >= 0; at = text.indexOf(w, at + 1)) {
        if (!WORD.test(text[at - 1] ?? '') && !WORD.test(text[at + w.length] ?? '')) return true;
      }
    }
    return digits && DIGIT_RUN.test(text);
  }
}

const IDEOGRAPHIC = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/u;
const WORD = /[\p{L}\p{N}]/u;
/** Five or more digits, possibly split by single separators, as `scrubDigitRuns` takes them. */
const DIGIT_RUN = /\d(?:[ \-./()+]?\d){4}/;

/** Character sets in which `Scrubber`'s byte matching is exact: single-byte sets and UTF-8. */
export function byteCleanable(specificCharacterSet: readonly string[]): boolean {
  return !specificCharacterSet.some((t) => /^(ISO 2022|GB18030|GBK)/.test(t.trim()));
}
