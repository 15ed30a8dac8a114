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
  /** Free text for admins (e.g. "CT scanner, room 3"). */
  description: z.string().optional(),
});

export type RemoteAEConfig = z.output<typeof remoteAESchema>;
