/**
 * Test-side reading of the standard's own JSON (PS3.15 Table E.1-1, PS3.6 dictionary), kept
 * independent of the generated rules so the tests check the engine against the source.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../../anonymizer/standard/source/', import.meta.url));

export interface Row {
  name: string;
  tag: string;
  id: string;
  basicProfile: string;
  [column: string]: string;
}

export interface DictionaryRow {
  tag: string;
  keyword: string;
  name: string;
  valueRepresentation: string;
}

export const TABLE: Row[] = JSON.parse(readFileSync(source + 'confidentiality_profile_attributes.json', 'utf8'));
export const DICTIONARY: DictionaryRow[] = JSON.parse(readFileSync(source + 'attributes.json', 'utf8'));
export const DICTIONARY_BY_TAG = new Map(DICTIONARY.map((d) => [d.tag.toUpperCase(), d]));

/** Option column → Limen option name. */
export const COLUMNS: Record<string, string> = {
  rtnSafePrivOpt: 'retainSafePrivate',
  rtnUIDsOpt: 'retainUIDs',
  rtnDevIdOpt: 'retainDeviceIdentity',
  rtnInstIdOpt: 'retainInstitutionIdentity',
  rtnPatCharsOpt: 'retainPatientCharacteristics',
  rtnLongFullDatesOpt: 'retainLongitudinalFullDates',
  rtnLongModifDatesOpt: 'retainLongitudinalModifiedDates',
  cleanDescOpt: 'cleanDescriptors',
  cleanStructContOpt: 'cleanStructuredContent',
  cleanGraphOpt: 'cleanGraphics',
};

/** The action the standard gives a row under one option (or none). */
export function expectedAction(row: Row, option?: string): string {
  if (option) {
    const column = Object.entries(COLUMNS).find(([, name]) => name === option)?.[0];
    if (column && row[column]) return row[column];
  }
  return row.basicProfile;
}

export const tagNumber = (tag: string): number => parseInt(tag.replace(/[(),]/g, ''), 16) >>> 0;
