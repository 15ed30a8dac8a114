/** Lookups in the PS3.6 data dictionary (generated from the standard, see ../standard). */
import { DICTIONARY_ENTRIES, MASKED_ENTRIES } from './dictionary.generated.js';
import { isPrivate, type Tag } from './tag.js';

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
  for (const [mask, value, vr, keyword] of MASKED_ENTRIES) {
    if (((t & mask) >>> 0) === value) return { vr, keyword };
  }
  return undefined;
}

/** Whether the dictionary knows a standard tag (repeating groups included): `lookup` without building its entry. */
export function isKnown(t: Tag): boolean {
  if (isPrivate(t)) return false;
  if (DICTIONARY_ENTRIES[t] !== undefined) return true;
  for (const [mask, value] of MASKED_ENTRIES) if (((t & mask) >>> 0) === value) return true;
  return false;
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
