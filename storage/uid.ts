import { isDicomUID } from '../config/index.js';

/** True when `value` is a string holding a DICOM UID (the syntax rule lives in `config/`). */
export function isUID(value: unknown): value is string {
  return typeof value === 'string' && isDicomUID(value);
}
