import { z } from 'zod';
import { uidSchema } from './uid.js';
import { nameSchema } from './names.js';

/** PS3.15 Basic Application Level Confidentiality Profile; options add to it. */
export const DEFAULT_DEIDENTIFICATION_PROFILE = 'basic';
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';
/** What a route accepts unless told otherwise: the CT the pipeline segments. */
export const DEFAULT_ACCEPT_SOP_CLASSES: readonly string[] = Object.freeze([CT_IMAGE_STORAGE, ENHANCED_CT_IMAGE_STORAGE]);
/** A study is complete after this long without a new instance. */
export const DEFAULT_STABLE_SECONDS = 10;
export const MIN_STABLE_SECONDS = 1;
/**
 * A study expires this long after it was received: the date is recorded with the study. Nothing
 * destroys it then yet (retention is still to be built); then everything about it is to go.
 */
export const DEFAULT_RETENTION_DAYS = 30;

const PRIVATE_ELEMENT = /^\(?([0-9A-Fa-f]{4}),[xX]{2}([0-9A-Fa-f]{2})\)?$/;

/**
 * A private attribute the route keeps under the Retain Safe Private option, written as PS3.15
 * Table E.3.10-1 lists them: its creator and `(gggg,xxee)`, the odd group and the element's
 * byte within the creator's block. Read into the numbers the anonymizer takes.
 */
export const safePrivateElementSchema = z
  .strictObject({
    creator: z.string().min(1).max(64),
    element: z.string().superRefine((value, ctx) => {
      const m = PRIVATE_ELEMENT.exec(value.trim());
      if (m === null) {
        ctx.addIssue({ code: 'custom', message: 'a private element is written (gggg,xxee), e.g. (7053,xx00)' });
        return;
      }
      const group = parseInt(m[1], 16);
      if (group % 2 === 0 || group <= 0x0008 || group === 0xffff) {
        ctx.addIssue({ code: 'custom', message: `group ${m[1]} is not a private group (odd, above 0008)` });
      }
    }),
  })
  .transform(({ creator, element }) => {
    const m = PRIVATE_ELEMENT.exec(element.trim()) as RegExpExecArray;
    return { creator, group: parseInt(m[1], 16), element: parseInt(m[2], 16) };
  });

/**
 * How a route de-identifies. Profile and option names are checked against the anonymizer
 * when the gateway starts; here they are plain strings.
 */
export const deidentificationSchema = z.strictObject({
  profile: z.string().min(1).default(DEFAULT_DEIDENTIFICATION_PROFILE),
  options: z.array(z.string().min(1)).default([]),
  safePrivateAllowlist: z.array(safePrivateElementSchema).optional(),
  /** Keep images that declare burned-in annotation (they are refused by default). */
  allowBurnedIn: z.boolean().default(false),
});

/** What happens to studies that arrive on a route: from de-identification to delivery and expiry. */
export const routeSchema = z.strictObject({
  deidentification: deidentificationSchema.prefault({}),
  /** SOP Class UIDs accepted at association negotiation; others are refused. */
  acceptSopClasses: z.array(uidSchema).min(1).default(() => [...DEFAULT_ACCEPT_SOP_CLASSES]),
  stableSeconds: z.number().int().min(MIN_STABLE_SECONDS).max(86400).default(DEFAULT_STABLE_SECONDS),
  retentionDays: z.number().int().min(1).max(3650).default(DEFAULT_RETENTION_DAYS),
  /** A series with fewer slices is not segmented. */
  minSlices: z.number().int().min(1).optional(),
  /** The segmentation model's id; absent: the registry's default. */
  model: z.string().min(1).optional(),
  /** Reviewers who may approve this route's results; absent: any reviewer. */
  reviewerGroup: z.string().min(1).optional(),
  /** Destination names approved results are sent to. */
  destinations: z.array(nameSchema).default([]),
  /**
   * Whether a calling AE not listed in `remoteAEs` may use this route. Only allowed when
   * DIMSE listens on loopback. Absent: true for the default route when DIMSE is on loopback
   * and no remote AEs are listed, false otherwise.
   */
  acceptAnyCaller: z.boolean().optional(),
});

/** A route as configured; `acceptAnyCaller` is resolved at load. */
export type RouteConfig = Omit<z.output<typeof routeSchema>, 'acceptAnyCaller'> & { acceptAnyCaller: boolean };
export type DeidentificationConfig = z.output<typeof deidentificationSchema>;
export type SafePrivateElement = z.output<typeof safePrivateElementSchema>;
