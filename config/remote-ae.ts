import { z } from 'zod';
import { aeTitleSchema } from './ae-title.js';
import { addressEntrySchema } from './addresses.js';
import { DEFAULT_ROUTE_NAME, nameSchema } from './names.js';

/**
 * A DICOM node allowed to send to Limen: its calling AE title, optionally the source
 * addresses it must connect from, and the route its studies take.
 */
export const remoteAESchema = z.strictObject({
  aeTitle: aeTitleSchema,
  /** IPs or CIDR blocks; absent means any address (the AE title alone identifies the caller). */
  addresses: z.array(addressEntrySchema).min(1).optional(),
  route: nameSchema.default(DEFAULT_ROUTE_NAME),
  /** Refuse this caller unless its association runs over TLS. */
  tlsRequired: z.boolean().default(false),
  /**
   * The SHA-256 fingerprints of the certificates this AE may present (as `openssl x509 -noout
   * -fingerprint -sha256` prints them, colons optional). Given, the AE is served over TLS only and
   * only with one of these: its AE title alone no longer identifies it.
   */
  tlsCertificateSha256: z
    .array(
      z
        .string()
        .transform((s) => s.replace(/:/g, '').toLowerCase())
        .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 fingerprint is 64 hexadecimal digits (colons allowed)')),
    )
    .min(1)
    .optional(),
  /** Free text for admins (e.g. "CT scanner, room 3"). */
  description: z.string().optional(),
});

export type RemoteAEConfig = z.output<typeof remoteAESchema>;
