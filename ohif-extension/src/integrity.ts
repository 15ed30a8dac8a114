/**
 * What the reviewer sees must be what an approval pins: the GLB's SHA-256 is checked against
 * the review's. Web Crypto exists only in secure contexts (HTTPS, or loopback); elsewhere the
 * check says it could not be made rather than pretending.
 */

export type IntegrityCheck = { status: 'verified' } | { status: 'mismatch'; actual: string } | { status: 'unavailable'; reason: string };

/** Lower-case hex SHA-256 of the bytes, or `null` without Web Crypto. */
export async function sha256Hex(bytes: ArrayBuffer, subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle): Promise<string | null> {
  if (!subtle) return null;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function checkGlbIntegrity(bytes: ArrayBuffer, expectedSha256: string | undefined, subtle?: SubtleCrypto): Promise<IntegrityCheck> {
  if (!expectedSha256) return { status: 'unavailable', reason: 'the review names no SHA-256 for the model' };
  const actual = await sha256Hex(bytes, subtle ?? globalThis.crypto?.subtle);
  if (actual === null) return { status: 'unavailable', reason: 'this page is not a secure context (no Web Crypto)' };
  return actual === expectedSha256.toLowerCase() ? { status: 'verified' } : { status: 'mismatch', actual };
}
