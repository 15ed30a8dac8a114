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

/** What to tell the operator of the certificate `setting` names, or undefined while renewal is not due. */
export function renewalWarning(setting: string, certificate: ServedCertificate, now: Date): string | undefined {
  const days = renewalDue(certificate, now);
  if (days === undefined) return undefined;
  const end = certificate.notAfter.toISOString();
  return days < 0 ? `${setting}: the certificate expired on ${end}; callers refuse it` : `${setting}: the certificate expires on ${end} (in ${days} days)`;
}
