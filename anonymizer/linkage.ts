/**
 * The linkage record: what de-identification removed that Limen needs again at egress to put a
 * result back on the right patient. It leaves the engine only to be sealed in the vault.
 */

import { textDecoding } from './dicom/charset.js';

/** An original value exactly as it was encoded (base64 of the value bytes), with its VR. */
export interface OriginalValue {
  vr: string;
  base64: string;
}

export interface LinkageRecord {
  version: 1;
  /** The profile the instance went through. */
  profile: string;
  /** The original SpecificCharacterSet, so the values decode as they were meant. */
  specificCharacterSet: string;
  /** Original patient and study identification, by DICOM keyword (PatientName, PatientID, AccessionNumber...). */
  patient: Record<string, OriginalValue>;
  /** Every UID the instance replaced: [original, replacement]; one the profile kept (Retain UIDs) as [uid, uid]. */
  uids: Array<[string, string]>;
}

/** Attributes kept in the linkage record (Patient and General Study modules, PS3.3 C.7.1.1, C.7.2.1). */
export const LINKED_ATTRIBUTES: ReadonlyArray<readonly [number, string]> = [
  [0x00100010, 'PatientName'],
  [0x00100020, 'PatientID'],
  [0x00100021, 'IssuerOfPatientID'],
  [0x00100030, 'PatientBirthDate'],
  [0x00100040, 'PatientSex'],
  [0x00080050, 'AccessionNumber'],
  [0x00200010, 'StudyID'],
  [0x00080020, 'StudyDate'],
  [0x00080030, 'StudyTime'],
  [0x00080090, 'ReferringPhysicianName'],
  [0x00081030, 'StudyDescription'],
  // The offset from UTC the study's dates and times are at (PS3.3 C.12.1): a result put back on
  // the study is dated at the same offset, so a PACS reads its times and the study's alike.
  [0x00080201, 'TimezoneOffsetFromUTC'],
];

/** Base64 without Node's Buffer, so the browser builds the same record. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** A linked attribute's original value as text, decoded in the instance's own character set; undefined when it had none. */
export function linkedText(record: LinkageRecord, keyword: string): string | undefined {
  const v = record.patient[keyword];
  if (!v) return undefined;
  const text = textDecoding(record.specificCharacterSet ? record.specificCharacterSet.split('\\') : []).decode(fromBase64(v.base64), v.vr === 'PN');
  return text.replace(/[\0 ]+$/, '').trim() || undefined;
}

/** A record read back from the vault that this version of the engine wrote. */
export function isLinkageRecord(r: unknown): r is LinkageRecord {
  const record = r as LinkageRecord | null;
  return !!record && record.version === 1 && Array.isArray(record.uids) && typeof record.patient === 'object' && record.patient !== null;
}
