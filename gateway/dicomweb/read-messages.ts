/**
 * DICOMweb read-side log messages with stable IDs. Pseudonymous UIDs only (everything on the
 * read side is de-identified); never a dataset.
 */
import type { LogRecord } from '../log/index.js';

export const DicomwebLog = {
  blobUnreadable: (f: { requestId: string; sopInstanceUID: string; code: string }): LogRecord => ({
    id: 'dicomweb.instance.unreadable',
    msg: `a stored instance failed to read (${f.code}); it was not served`,
    ...f,
  }),
  streamFailed: (f: { requestId: string; err: unknown }): LogRecord => ({
    id: 'dicomweb.retrieve.aborted',
    msg: 'a WADO-RS retrieve failed after its first part was sent; the response was cut short',
    ...f,
  }),
} as const;
