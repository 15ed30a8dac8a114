import { z } from 'zod';
import { aeTitleSchema } from './ae-title.js';
import { hostSchema, portSchema } from './addresses.js';

/** Loopback by default: on loopback the default route may accept any calling AE. */
export const DEFAULT_DIMSE_HOST = '127.0.0.1';
export const DEFAULT_DIMSE_PORT = 11112;
export const DEFAULT_AE_TITLE = 'LIMEN';
/** The largest P-DATA PDU Limen offers to receive (bytes). */
export const DEFAULT_MAX_PDU_LENGTH = 262144;
/** PS3.8 leaves the floor to implementations; below 4 KiB no peer negotiates sensibly. */
export const MIN_MAX_PDU_LENGTH = 4096;
/** The DIMSE library announces at most 256 KiB; a larger setting would be cut down without a word. */
export const MAX_MAX_PDU_LENGTH = 262144;
/** An association with no PDU for this long is aborted. */
export const DEFAULT_ASSOCIATION_IDLE_TIMEOUT_SECONDS = 60;
/** Associations served at once; more are rejected (transient, local limit exceeded). */
export const DEFAULT_MAX_ASSOCIATIONS = 16;
/** The largest data set a C-STORE may carry; larger ones get A700 and the association goes on. */
export const DEFAULT_DIMSE_MAX_INSTANCE_BYTES = 1024 * 1024 * 1024;

/** IANA's port for DICOM over TLS ("dicom-tls"). */
export const DEFAULT_DIMSE_TLS_PORT = 2762;

/**
 * DICOM over TLS (PS3.15's non-downgrading BCP 195 profile: TLS 1.2 or later): a second listener on
 * the same host, beside the plain one, for the callers that must not send in the clear.
 * Certificates and keys are PEM files, read at start and on SIGHUP.
 */
export const dimseTlsSchema = z.strictObject({
  port: portSchema.default(DEFAULT_DIMSE_TLS_PORT),
  /** Limen's certificate (PEM), followed by any intermediate certificates callers need. */
  certificateFile: z.string().min(1),
  /** Its private key (PEM, unencrypted: the file's permissions protect it). */
  privateKeyFile: z.string().min(1),
  /**
   * CA certificates (PEM) that callers' certificates must chain to. Given, every caller on this
   * port must present such a certificate (both nodes authenticated, as PS3.15 B.9 has it);
   * absent, only the remote AEs bound to certificates (`tlsCertificateSha256`) are authenticated.
   */
  callerCaFile: z.string().min(1).optional(),
  /** Certificate revocation lists (PEM) of those CAs: a revoked caller certificate is refused. Needs callerCaFile. */
  callerCrlFile: z.string().min(1).optional(),
});

/** The DIMSE SCP: where it listens and the AE title it answers to. */
export const dimseSchema = z.strictObject({
  host: hostSchema.default(DEFAULT_DIMSE_HOST),
  port: portSchema.default(DEFAULT_DIMSE_PORT),
  aeTitle: aeTitleSchema.default(DEFAULT_AE_TITLE),
  maxPduLength: z
    .number()
    .int()
    .min(MIN_MAX_PDU_LENGTH)
    .max(MAX_MAX_PDU_LENGTH)
    .default(DEFAULT_MAX_PDU_LENGTH),
  associationIdleTimeoutSeconds: z
    .number()
    .positive()
    .max(3600)
    .default(DEFAULT_ASSOCIATION_IDLE_TIMEOUT_SECONDS),
  maxAssociations: z.number().int().min(1).max(1000).default(DEFAULT_MAX_ASSOCIATIONS),
  maxInstanceBytes: z.number().int().min(1024).default(DEFAULT_DIMSE_MAX_INSTANCE_BYTES),
  /** Absent: no TLS listener, and no remote AE may require TLS. */
  tls: dimseTlsSchema.optional(),
});

export type DimseTlsConfig = z.output<typeof dimseTlsSchema>;
export type DimseConfig = z.output<typeof dimseSchema>;
