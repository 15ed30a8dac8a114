/** The gateway's keyed identifiers, derived from the master key so one secret rules them all. */
import { createHmac } from 'node:crypto';
import { keyedIdentifiers, type IdentifierGenerator } from '../../anonymizer/index.js';

/**
 * A separate key per purpose: the master key wraps study keys; this derived one keys UIDs and
 * pseudonyms (HMAC-SHA256 as a KDF, RFC 2104 / NIST SP 800-108 style with a fixed label).
 */
export function gatewayIdentifiers(masterKey: Uint8Array): IdentifierGenerator {
  return keyedIdentifiers(derivedSecret(masterKey, 'limen/deidentification/v1'));
}

/**
 * The UIDs Limen's own objects (the SEG) carry when they leave re-identified: keyed on their
 * pseudonymous UIDs under a key of their own, so a resend is the same object to the PACS and
 * nobody without the master key links the delivered SEG to Limen's pseudonymous copy.
 */
export function egressUIDs(masterKey: Uint8Array): (own: string) => string {
  return keyedIdentifiers(derivedSecret(masterKey, 'limen/egress/v1')).uid;
}

function derivedSecret(masterKey: Uint8Array, label: string): Buffer {
  return createHmac('sha256', masterKey).update(label).digest();
}
