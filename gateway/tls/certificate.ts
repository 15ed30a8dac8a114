/**
 * What an operator needs to know of a certificate Limen serves: which one it is (the SHA-256
 * fingerprint, as the audit trail writes a caller's) and until when it is valid.
 */
import { X509Certificate } from 'node:crypto';

export interface ServedCertificate {
  /** SHA-256 of the DER certificate, lower-case hex without colons. */
  sha256: string;
  notAfter: Date;
}

/** Renewal is due this long before a certificate expires: callers refuse an expired one. */
export const CERTIFICATE_RENEWAL_DAYS = 30;

/** The first certificate of a PEM chain (the one presented as Limen's own). */
export function servedCertificate(pem: string | Buffer): ServedCertificate {
  const certificate = new X509Certificate(pem);
  return { sha256: certificate.fingerprint256.replace(/:/g, '').toLowerCase(), notAfter: new Date(certificate.validTo) };
}

/** Days left until it expires (negative once expired), or undefined while renewal is not due. */
export function renewalDue(certificate: ServedCertificate, now: Date): number | undefined {
  const days = Math.floor((certificate.notAfter.getTime() - now.getTime()) / 86_400_000);
  return days < CERTIFICATE_RENEWAL_DAYS ? days : undefined;
}
