/**
 * Keyed replacement identifiers, as Orthanc's IDicomIdentifierGenerator comes into
 * DicomModification: the engine asks, the secret stays here. Everything is HMAC-SHA256 under the
 * secret, so the same input and key give the same output across instances, associations,
 * processes and machines, and nobody without the key can recompute or reverse them.
 * Pure JavaScript (no Node-only API), so the browser computes the very same values.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

export interface IdentifierGenerator {
  /** A replacement UID for an original one: `2.25.<decimal>` of a 128-bit keyed UUID (PS3.5 §B.2). */
  uid(original: string): string;
  /** The patient's pseudonym for a profile: the same patient and profile always give the same one. */
  patientPseudonym(patient: PatientKey, profile: string): string;
  /** A constant shift in days, per patient, for the Modified Dates option: between 1 and 3650 days back. */
  dateShiftDays(patient: PatientKey, profile: string): number;
}

/** What identifies a patient for pseudonymization: the ID within its issuer, else the name. */
export interface PatientKey {
  patientID: string;
  issuerOfPatientID: string;
  patientName: string;
}

const utf8 = new TextEncoder();

/** The minimum secret length: 256 bits, HMAC-SHA256's key size. */
export const SECRET_BYTES = 32;

/** Creates the keyed generator. Results are memoised: a study repeats the same UIDs and patient in every instance. */
export function keyedIdentifiers(secret: Uint8Array): IdentifierGenerator {
  if (secret.length < SECRET_BYTES) throw new Error(`the de-identification secret must be at least ${SECRET_BYTES} bytes, got ${secret.length}`);
  const key = secret.slice();
  const mac = (domain: string, value: string): Uint8Array => hmac(sha256, key, utf8.encode(`${domain}\0${value}`));
  const memo = <T>(derive: (input: string) => T): ((input: string) => T) => {
    const seen = new Map<string, T>();
    return (input) => {
      let out = seen.get(input);
      if (out === undefined) {
        out = derive(input);
        if (seen.size > 100_000) seen.clear();
        seen.set(input, out);
      }
      return out;
    };
  };
  const uid = memo((original) => uuidToOid(mac('uid', original)));
  const pseudonym = memo((who) => 'LIMEN-' + base32(mac('patient', who).subarray(0, 10)));
  const shift = memo((who) => {
    const h = mac('dateshift', who);
    return 1 + (((h[0] << 16) | (h[1] << 8) | h[2]) % 3650);
  });
  return {
    uid,
    patientPseudonym: (patient, profile) => pseudonym(`${profile}\0${patientIdentity(patient)}`),
    dateShiftDays: (patient, profile) => shift(`${profile}\0${patientIdentity(patient)}`),
  };
}

function patientIdentity(p: PatientKey): string {
  if (p.patientID) return `id\0${p.issuerOfPatientID}\0${p.patientID}`;
  return `name\0${p.patientName.toUpperCase()}`;
}

/** A UUID (version 8, RFC 9562 variant) from the first 16 bytes, as the decimal OID arc under 2.25. */
function uuidToOid(h: Uint8Array): string {
  const b = h.slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  let n = 0n;
  for (const byte of b) n = (n << 8n) | BigInt(byte);
  return `2.25.${n.toString(10)}`;
}

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no I, O, 0, 1: read aloud without mistakes
function base32(bytes: Uint8Array): string {
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
