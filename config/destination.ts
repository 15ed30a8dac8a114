import { z } from 'zod';
import { aeTitleSchema } from './ae-title.js';
import { hostSchema, portSchema } from './addresses.js';

/**
 * DICOM over TLS to a destination (TLS 1.2 or later; its certificate is always verified). PEM
 * files, read at each send, so a renewed certificate needs no restart.
 */
export const dimseDestinationTlsSchema = z
  .strictObject({
    /** CA certificates the destination's certificate must chain to. Absent: Node's bundled public roots. */
    caFile: z.string().min(1).optional(),
    /** Limen's certificate, for a destination that asks for one, with its key. */
    certificateFile: z.string().min(1).optional(),
    privateKeyFile: z.string().min(1).optional(),
  })
  .superRefine((tls, ctx) => {
    if ((tls.certificateFile === undefined) !== (tls.privateKeyFile === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give certificateFile and privateKeyFile together, or neither' });
    }
  });

/** A DICOM node Limen sends approved results to by C-STORE. */
export const dimseDestinationSchema = z.strictObject({
  kind: z.literal('dimse'),
  /** The called AE title. */
  aeTitle: aeTitleSchema,
  host: hostSchema,
  port: portSchema,
  /** The calling AE title Limen presents; absent: `dimse.aeTitle`. */
  callingAETitle: aeTitleSchema.optional(),
  /** Absent: plain TCP. */
  tls: dimseDestinationTlsSchema.optional(),
});

/**
 * Credentials are read from files, so secrets stay out of the configuration (and out of the
 * audit of configuration changes). Exactly one form.
 */
export const dicomwebAuthSchema = z
  .strictObject({
    bearerTokenFile: z.string().min(1).optional(),
    basic: z.strictObject({ user: z.string().min(1), passwordFile: z.string().min(1) }).optional(),
  })
  .superRefine((auth, ctx) => {
    const forms = (auth.bearerTokenFile !== undefined ? 1 : 0) + (auth.basic !== undefined ? 1 : 0);
    if (forms !== 1) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of bearerTokenFile or basic' });
    }
  });

/** A DICOMweb server Limen sends approved results to by STOW-RS. */
export const dicomwebDestinationSchema = z.strictObject({
  kind: z.literal('dicomweb'),
  /** The DICOMweb base URL (STOW goes to `<url>/studies`). */
  url: z.string().superRefine((value, ctx) => {
    if (!URL.canParse(value)) {
      ctx.addIssue({ code: 'custom', message: 'not a URL' });
      return;
    }
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', message: 'a DICOMweb URL is http:// or https://' });
    }
    if (url.username !== '' || url.password !== '') {
      ctx.addIssue({ code: 'custom', message: 'credentials go in auth (read from files), not in the URL' });
    }
  }),
  auth: dicomwebAuthSchema.optional(),
});

export const destinationSchema = z.discriminatedUnion('kind', [dimseDestinationSchema, dicomwebDestinationSchema]);

export type DicomwebAuthConfig = { bearerTokenFile: string } | { basic: { user: string; passwordFile: string } };
export type DimseDestinationConfig = z.output<typeof dimseDestinationSchema>;
export type DimseDestinationTlsConfig = z.output<typeof dimseDestinationTlsSchema>;
export type DicomwebDestinationConfig = Omit<z.output<typeof dicomwebDestinationSchema>, 'auth'> & {
  auth?: DicomwebAuthConfig;
};
export type DestinationConfig = DimseDestinationConfig | DicomwebDestinationConfig;
