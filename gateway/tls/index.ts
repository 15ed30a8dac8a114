/**
 * The TLS profile every Limen endpoint uses, listening (DIMSE, HTTPS) or calling (C-STORE to a
 * destination): BCP 195 (RFC 9325) as PS3.15's non-downgrading BCP 195 profile (B.10) asks of
 * DICOM nodes. TLS 1.2 or later; in TLS 1.2 only ephemeral key exchange with AES-GCM, so every
 * session has forward secrecy (Node's defaults also offer static-RSA and CBC suites); no
 * renegotiation, which would let a peer change what was authenticated; no session tickets, whose
 * key would live as long as the process.
 */
import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';

/** TLS 1.3's three suites, then TLS 1.2's AEAD suites with ECDHE or DHE, strongest first. */
export const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_AES_128_GCM_SHA256',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES128-GCM-SHA256',
].join(':');

/** Options for `tls.createServer`, `https.createServer` and `tls.connect` alike. */
export const TLS_PROFILE = {
  minVersion: 'TLSv1.2',
  ciphers: TLS_CIPHERS,
  honorCipherOrder: true,
  secureOptions: constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_TICKET,
} as const;

/** What a listener serves with, PEM text or bytes. */
export interface ListenerCredentials {
  /** Limen's certificate chain. */
  certificate: string | Buffer;
  privateKey: string | Buffer;
  /** Given, callers must present a certificate chaining to one of these. */
  callerCa?: string | Buffer;
  /** Revocation lists of the caller CAs: a revoked certificate is refused like an untrusted one. */
  callerCrl?: string | Buffer;
}

/** A listener's secure context: the profile with its credentials, for creating or replacing it. */
export function listenerContext(c: ListenerCredentials): SecureContextOptions {
  return {
    ...TLS_PROFILE,
    key: c.privateKey,
    cert: c.certificate,
    ...(c.callerCa !== undefined && { ca: c.callerCa }),
    ...(c.callerCrl !== undefined && { crl: c.callerCrl }),
  };
}

/** How long a TLS handshake may take before the connection is dropped. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 30_000;
export * from './certificate.js';
