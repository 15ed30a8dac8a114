import { z } from 'zod';

/** PS3.5 UI VR: at most 64 characters. */
export const UID_MAX_LENGTH = 64;

/** True when `value` is a DICOM UID: dot-separated numbers, no leading zeros, at most 64 characters. */
export function isDicomUID(value: string): boolean {
  return value.length <= UID_MAX_LENGTH && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(value);
}

/** A DICOM UID (a SOP Class UID in the configuration). */
export const uidSchema = z.string().refine(isDicomUID, {
  message: 'not a DICOM UID (digits and dots, no leading zeros, at most 64 characters)',
});
