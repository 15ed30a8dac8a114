/**
 * Which of the patient's identifiers a reviewer's comment spells out. A comment is free text kept
 * beside the de-identified study, outside the vault; a reviewer with the PACS open beside the
 * viewer may type the patient's name or record number into it. The comment is checked against the
 * originals sealed in the vault before it is stored.
 *
 * Only whole identifiers count: the full name (family and given name together), the whole
 * patient ID or accession number, the birth date in the usual spellings. A single surname that is
 * also a word ("Long", "White") would refuse ordinary comments, and would let anyone who can
 * comment test words against the patient's name.
 */
import { linkedText, type LinkageRecord } from '../../anonymizer/index.js';

/** Identifiers found in `comment`, by DICOM keyword, each once. */
export function identifiersInComment(comment: string, records: readonly LinkageRecord[]): string[] {
  const text = fold(comment);
  const words = new Set(text.split(/[^\p{L}\p{N}]+/u).filter(Boolean));
  const found = new Set<string>();
  for (const record of records) {
    const name = linkedText(record, 'PatientName');
    if (name && nameIn(name, words)) found.add('PatientName');
    for (const keyword of ['PatientID', 'AccessionNumber']) {
      const value = linkedText(record, keyword);
      if (value && value.length >= 3 && wholeIn(fold(value), text)) found.add(keyword);
    }
    const birth = linkedText(record, 'PatientBirthDate');
    if (birth && spellingsOfDate(birth).some((d) => wholeIn(d, text))) found.add('PatientBirthDate');
  }
  return [...found];
}

/** Lower case without accents, so "Müller" in the record matches "muller" typed. */
function fold(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/**
 * A person name (PS3.5 6.2: groups split by '=', components by '^') is in the comment when, in
 * one group, its family name and at least one other component are all there as words; a name of
 * one component, when that is.
 */
function nameIn(pn: string, words: ReadonlySet<string>): boolean {
  for (const value of pn.split('\\')) {
    for (const group of value.split('=')) {
      const components = group.split('^').map((c) => fold(c).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length >= 2));
      const [family = [], ...others] = components.slice(0, 3);
      const present = (parts: string[]) => parts.length > 0 && parts.every((w) => words.has(w));
      if (family.length === 0) continue;
      if (others.every((o) => o.length === 0) ? present(family) && family.join('').length >= 3 : present(family) && others.some(present)) return true;
    }
  }
  return false;
}

/** `needle` in `text`, not inside a longer run of letters or digits. */
function wholeIn(needle: string, text: string): boolean {
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const before = text.slice(0, at);
    const after = text.slice(at + needle.length);
    if (!/[\p{L}\p{N}]$/u.test(before) && !/^[\p{L}\p{N}]/u.test(after)) return true;
  }
  return false;
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** A DA value (YYYYMMDD) as people write it: ISO, day first, month first, with the month's name. */
function spellingsOfDate(da: string): string[] {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da);
  if (!m) return [];
  const [, y, mm, dd] = m;
  const month = MONTHS[Number(mm) - 1];
  if (!month) return [];
  const out = new Set<string>([`${y}${mm}${dd}`]);
  for (const day of new Set([dd, String(Number(dd))])) {
    for (const mon of new Set([mm, String(Number(mm))])) {
      for (const sep of ['-', '/', '.']) {
        out.add(`${y}${sep}${mon}${sep}${day}`);
        out.add(`${day}${sep}${mon}${sep}${y}`);
        out.add(`${mon}${sep}${day}${sep}${y}`);
      }
    }
    for (const name of [month, month.slice(0, 3)]) {
      out.add(`${day} ${name} ${y}`);
      out.add(`${name} ${day} ${y}`);
      out.add(`${name} ${day}, ${y}`);
    }
  }
  return [...out];
}
