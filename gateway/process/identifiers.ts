/** The gateway's de-identification secret, derived from the master key so one secret rules them all. */
import { createHmac } from 'node:crypto';
import { keyedIdentifiers, type IdentifierGenerator } from '../../anonymizer/index.js';

/**
 * A separate key per purpose: the master key wraps study keys; this derived one keys UIDs and
 * pseudonyms (HMAC-SHA256 as a KDF, RFC 2104 / NIST SP 800-108 style with a fixed label).
 */
export function gatewayIdentifiers(masterKey: Uint8Array): IdentifierGenerator {
  const secret = createHmac('sha256', masterKey).update('limen/deidentification/v1').digest();
  return keyedIdentifiers(secret);
}
