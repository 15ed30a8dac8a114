/** Value representations (PS3.5 §6.2) and what encoding needs to know about them. */

export type VR =
  | 'AE' | 'AS' | 'AT' | 'CS' | 'DA' | 'DS' | 'DT' | 'FL' | 'FD' | 'IS' | 'LO' | 'LT' | 'OB' | 'OD' | 'OF' | 'OL'
  | 'OV' | 'OW' | 'PN' | 'SH' | 'SL' | 'SQ' | 'SS' | 'ST' | 'SV' | 'TM' | 'UC' | 'UI' | 'UL' | 'UN' | 'UR' | 'US'
  | 'UT' | 'UV';

const ALL = new Set<string>([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN',
  'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);

export const isVR = (s: string): s is VR => ALL.has(s);

/** VRs whose explicit-VR header has a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1). */
const LONG = new Set<VR>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
export const hasLongLength = (vr: VR): boolean => LONG.has(vr);

/** Byte width of the binary units to swap between byte orders; 1 or 0 for none. */
export function swapWidth(vr: VR): number {
  switch (vr) {
    case 'US': case 'SS': case 'OW': return 2;
    case 'UL': case 'SL': case 'FL': case 'OF': case 'OL': return 4;
    case 'AT': return 2; // a pair of 16-bit group and element numbers
    case 'FD': case 'OD': case 'SV': case 'UV': case 'OV': return 8;
    default: return 0;
  }
}

/** Character-string VRs whose values are text, padded with a space. */
const TEXT = new Set<VR>(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UR', 'UT']);
export const isText = (vr: VR): boolean => TEXT.has(vr);

/** Text VRs that may carry free text in the instance's character set (what cleaning scrubs). */
const FREE_TEXT = new Set<VR>(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
export const isFreeText = (vr: VR): boolean => FREE_TEXT.has(vr);

/** Padding byte for an odd-length value. */
export const padByte = (vr: VR): number => (vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0 : isText(vr) ? 0x20 : 0);

/** ESC, for the ISO 2022 code extensions PS3.5 §6.1.2.5.3 allows in these VRs. */
const ESCAPES = new Set<VR>(['LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
/** TAB, LF, FF and CR, which only the text VRs allow (PS3.5 Table 6.2-1). */
const FORMAT_EFFECTORS = new Set<VR>(['LT', 'ST', 'UT']);

/**
 * Whether a character-string value (UI included) holds a control character its VR does not allow
 * (PS3.5 Table 6.2-1), trailing NUL or space padding aside. No encoder writes one; a length or
 * tag that is off does, when a value runs over the headers of the elements that followed it.
 */
export function hasForbiddenControl(vr: VR, value: Uint8Array): boolean {
  if (!isText(vr) && vr !== 'UI') return false;
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x20 || value[end - 1] === 0)) end--;
  for (let i = 0; i < end; i++) {
    const b = value[i];
    if (b >= 0x20) continue;
    if (b === 0x1b && ESCAPES.has(vr)) continue;
    if ((b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d) && FORMAT_EFFECTORS.has(vr)) continue;
    return true;
  }
  return false;
}

/** Binary numbers, and numbers as decimal strings: writers swap VRs within each without changing what a value says. */
const BINARY = new Set<VR>(['AT', 'FD', 'FL', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SL', 'SS', 'SV', 'UL', 'US', 'UV']);
const DECIMAL = new Set<VR>(['DS', 'IS']);

/**
 * Whether an element read with `vr` can be the attribute the dictionary gives `allowed` VRs: one
 * of them, UN (the sender did not know), or a VR of the same kind (a number in another width).
 * Otherwise it is some other value under that tag: a date where a code belongs, a name where a
 * sequence does.
 */
export function canStandFor(vr: VR, allowed: readonly string[]): boolean {
  if (vr === 'UN' || allowed.includes(vr) || allowed.includes('UN')) return true;
  const kind = BINARY.has(vr) ? BINARY : DECIMAL.has(vr) ? DECIMAL : undefined;
  return kind !== undefined && allowed.some((a) => kind.has(a as VR));
}

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * The characters each VR of codes, numbers, dates and UIDs may hold (PS3.5 Table 6.2-1), a little
 * wider where writers are known to stray: lowercase codes, decimal commas, ACR-NEMA dates with
 * dots. A value beyond them is not the kind of value its VR says: a name, or an identifier.
 * Space, backslash (the value separator) and NUL (padding some writers use) go with every one.
 */
const REPERTOIRES = new Map<VR, Uint8Array>(
  (
    [
      ['AS', `${DIGITS}DWMY`],
      ['CS', `${DIGITS}${UPPER}${UPPER.toLowerCase()}_`],
      ['DA', `${DIGITS}.-`],
      ['DS', `${DIGITS}+-.,eE`],
      ['DT', `${DIGITS}+-.`],
      ['IS', `${DIGITS}+-`],
      ['TM', `${DIGITS}.:`],
      ['UI', `${DIGITS}.`],
    ] as const
  ).map(([vr, chars]) => {
    const allowed = new Uint8Array(256);
    for (const c of `${chars} \\\0`) allowed[c.charCodeAt(0)] = 1;
    return [vr, allowed];
  }),
);

/** Whether a value of a restricted VR (codes, numbers, dates, UIDs) holds only the characters it may. */
export function fitsRepertoire(vr: VR, value: Uint8Array): boolean {
  const allowed = REPERTOIRES.get(vr);
  if (allowed === undefined) return true;
  for (let i = 0; i < value.length; i++) if (!allowed[value[i]]) return false;
  return true;
}

/** Bytes per value of a VR of binary numbers; undefined for other VRs. */
export function binaryUnit(vr: VR): number | undefined {
  switch (vr) {
    case 'US': case 'SS': return 2;
    case 'UL': case 'SL': case 'FL': case 'AT': return 4;
    case 'FD': case 'SV': case 'UV': return 8;
    default: return undefined;
  }
}
