/** Lookups in the PS3.6 data dictionary (generated from the standard, see ../standard). */
import { BINARY_MULTIPLICITIES, DICTIONARY_ENTRIES, MASKED_ENTRIES } from './dictionary.generated.js';
import { isPrivate, type Tag } from './tag.js';
import { binaryUnit, type VR } from './vr.js';

export interface DictionaryEntry {
  /** One VR, or the alternatives ('US|SS', 'OB|OW') the standard allows. */
  vr: string;
  keyword: string;
}

/** The dictionary entry for a standard tag, including repeating groups; undefined for private or unknown tags. */
export function lookup(t: Tag): DictionaryEntry | undefined {
  if (isPrivate(t)) return undefined;
  const raw = DICTIONARY_ENTRIES[t];
  if (raw !== undefined) {
    const bar = raw.lastIndexOf('|');
    return { vr: raw.slice(0, bar), keyword: raw.slice(bar + 1) };
  }
  // Repeating groups (50xx, 60xx, 7Fxx) run over even xx from 00 to 1E only (PS3.5 §7.6): (6060,3000) is no overlay.
  const xx = (t >>> 16) & 0xff;
  const repeating = !(xx & 1) && xx <= 0x1e;
  for (const [mask, value, vr, keyword] of MASKED_ENTRIES) {
    if (((t & mask) >>> 0) === value && (mask !== REPEATING_GROUP_MASK || repeating)) return { vr, keyword };
  }
  return undefined;
}

const REPEATING_GROUP_MASK = 0xff00ffff;

const vrsCache = new Map<Tag, readonly string[] | null>();
/** The VRs the dictionary allows a standard tag (repeating groups included); undefined for private or unknown tags. */
export function dictionaryVRs(t: Tag): readonly string[] | undefined {
  let vrs = vrsCache.get(t);
  if (vrs === undefined) {
    vrs = lookup(t)?.vr.split('|') ?? null;
    // Bounded, so that a stream of broken tags cannot grow it without end.
    if (vrsCache.size < 65_536) vrsCache.set(t, vrs);
  }
  return vrs ?? undefined;
}

/**
 * Whether a value in binary numbers has as many values as the dictionary allows its tag (PS3.6 VM):
 * a length grown over the elements after it seldom does. Empty values and tags of any
 * multiplicity pass; so does every other VR.
 */
export function fitsMultiplicity(t: Tag, vr: VR, length: number): boolean {
  const unit = binaryUnit(vr);
  if (unit === undefined || length === 0) return true;
  if (length % unit !== 0) return false;
  const vm = BINARY_MULTIPLICITIES[t];
  if (vm === undefined) return true;
  const n = length / unit;
  const m = /^(\d+)(?:-(\d+)?(n)?)?$/.exec(vm);
  if (!m) return true;
  const low = Number(m[1]);
  if (m[2] === undefined && m[3] === undefined) return n === low; // "3"
  if (m[3] === undefined) return n >= low && n <= Number(m[2]); // "1-3"
  return n >= low && (m[2] === undefined || n % low === 0); // "2-n", "2-2n"
}

let byKeyword: Map<string, Tag> | undefined;
/** The tag of a standard keyword (e.g. 'PatientName'), for tests and tools. */
export function tagOfKeyword(keyword: string): Tag | undefined {
  if (!byKeyword) {
    byKeyword = new Map();
    for (const [k, raw] of Object.entries(DICTIONARY_ENTRIES)) byKeyword.set(raw.slice(raw.lastIndexOf('|') + 1), Number(k));
  }
  return byKeyword.get(keyword);
}
