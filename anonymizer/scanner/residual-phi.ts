/**
 * The residual-PHI scanner: given the identifying values an input carried, finds any of them in
 * output bytes or names. Each value is searched as written and as its DICOM components (name
 * parts split at '^' and '=', multiple values at '\'), case-insensitively, in every encoding a
 * value can take in a file (ASCII/UTF-8 and Latin-1). It knows nothing of DICOM structure on
 * purpose: private data, sequences, file names and logs are all just bytes to it.
 */

export interface ResidualHit {
  /** Which named input the hit is in (a file path, "database", a log name...). */
  source: string;
  /** The value that was found (the needle), and the original value it came from. */
  needle: string;
  value: string;
  offset: number;
}

export interface ScanOptions {
  /** Needles shorter than this are skipped: "M" for sex or "58" would match everywhere. Default 4. */
  minLength?: number;
}

/** The needles one identifying value yields: itself and its components. */
export function needlesOf(value: string, minLength = 4): string[] {
  const out = new Set<string>();
  const add = (s: string): void => {
    const t = s.trim();
    if (t.length >= minLength) out.add(t.toLowerCase());
  };
  add(value);
  for (const v of value.split('\\')) {
    add(v);
    for (const group of v.split('=')) {
      add(group);
      for (const part of group.split('^')) add(part);
    }
  }
  return [...out];
}

/** Searches each source for each value's needles; returns every hit (empty when clean). */
export function scanResidualPhi(
  sources: Iterable<{ name: string; bytes: Uint8Array }>,
  values: readonly string[],
  options: ScanOptions = {},
): ResidualHit[] {
  const needles: Array<{ needle: string; value: string; encodings: Uint8Array[] }> = [];
  for (const value of values) {
    for (const needle of needlesOf(value, options.minLength ?? 4)) {
      needles.push({ needle, value, encodings: encodings(needle) });
    }
  }
  const hits: ResidualHit[] = [];
  for (const { name, bytes } of sources) {
    const folded = foldCase(bytes);
    const nameBytes = foldCase(new TextEncoder().encode(name));
    for (const n of needles) {
      for (const enc of n.encodings) {
        const at = indexOf(folded, enc);
        if (at >= 0) {
          hits.push({ source: name, needle: n.needle, value: n.value, offset: at });
          break;
        }
        const inName = indexOf(nameBytes, enc);
        if (inName >= 0) {
          hits.push({ source: `${name} (its name)`, needle: n.needle, value: n.value, offset: inName });
          break;
        }
      }
    }
  }
  return hits;
}

function encodings(needle: string): Uint8Array[] {
  const utf8 = new TextEncoder().encode(needle);
  const latin1 = new Uint8Array(needle.length);
  let isLatin1 = true;
  for (let i = 0; i < needle.length; i++) {
    const c = needle.charCodeAt(i);
    if (c > 0xff) isLatin1 = false;
    latin1[i] = c & 0xff;
  }
  const out = [foldCase(utf8)];
  if (isLatin1 && latin1.length !== utf8.length) out.push(foldCase(latin1));
  return out;
}

function foldCase(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    out[i] = c >= 0x41 && c <= 0x5a ? c + 32 : c >= 0xc0 && c <= 0xde && c !== 0xd7 ? c + 32 : c;
  }
  return out;
}

const isDigitOrDot = (b: number | undefined): boolean => b !== undefined && ((b >= 0x30 && b <= 0x39) || b === 0x2e);
const isHexDigit = (b: number | undefined): boolean => b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66));
/** Hex runs this long are digests, seals and keys (SHA-256 is 64), not text a value was copied into. */
const DIGEST_HEX_RUN = 32;

/** True when hay[from, to) lies inside a run of at least DIGEST_HEX_RUN hex digits (case folded). */
function insideDigest(hay: Uint8Array, from: number, to: number): boolean {
  let start = from;
  let end = to;
  while (start > 0 && isHexDigit(hay[start - 1])) start--;
  while (end < hay.length && isHexDigit(hay[end])) end++;
  return end - start >= DIGEST_HEX_RUN;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return -1;
  // A value made only of digits (a postcode, a date) is found as a number of its own, not as a
  // run inside a longer number such as a random 2.25 UID, or inside a digest written in hex (a
  // hash or seal of the audit trail), where it would match by chance.
  const numeric = needle.every((b) => b >= 0x30 && b <= 0x39);
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    if (numeric && (isDigitOrDot(hay[i - 1]) || isDigitOrDot(hay[i + needle.length]) || insideDigest(hay, i, i + needle.length))) continue;
    return i;
  }
  return -1;
}
