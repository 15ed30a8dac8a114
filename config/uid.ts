import { z } from 'zod';
import { isUID } from '../anonymizer/dicom/uid.js';

/** True when `value` is a DICOM UID: dot-separated numbers, no leading zeros, at most 64 characters. */
export const isDicomUID = isUID;

/** A DICOM UID (a SOP Class UID in the configuration). */
export const uidSchema = z.string().refine(isDicomUID, {
  message: 'not a DICOM UID (digits and dots, no leading zeros, at most 64 characters)',
});
